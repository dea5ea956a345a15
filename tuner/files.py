"""Result files written whole or not at all: a temporary name in the same
directory, fsync, then rename.  The tuner, the cache, the exporters and the
report share these."""

import os
import tempfile
from pathlib import Path


def current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path, text):
    """Write `text` to `path` (creating its directory): readers see the old
    file or the new one, never a part; the mode follows the umask (mkstemp
    makes 0600).  A temporary `.<name>.*.tmp` is removed on failure; a
    SIGKILL can leave one behind (the tuner removes those on its next run)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
