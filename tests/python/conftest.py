import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


@pytest.fixture
def tritune():
    """The built harness (build/bin/tritune); tests that need it skip without it."""
    harness = ROOT / "build" / "bin" / "tritune"
    if not harness.exists():
        pytest.skip("harness not built")
    return harness
