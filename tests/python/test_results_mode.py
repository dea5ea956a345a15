"""Results files are created like any other file: mode 0666 less the umask
(0644 under the usual 022), not mkstemp's 0600 (issue 10)."""
import os
import stat

import tuner.__main__ as tmain


def test_atomic_write_respects_umask(tmp_path):
    old = os.umask(0o022)
    try:
        tmain.atomic_write(tmp_path / "tuned.tsv", "x\n")
        assert stat.S_IMODE(os.stat(tmp_path / "tuned.tsv").st_mode) == 0o644
        os.umask(0o077)
        tmain.atomic_write(tmp_path / "tuned.json", "{}\n")
        assert stat.S_IMODE(os.stat(tmp_path / "tuned.json").st_mode) == 0o600
    finally:
        os.umask(old)
    assert (tmp_path / "tuned.tsv").read_text() == "x\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
