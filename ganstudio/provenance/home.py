"""Where the studio keeps its own files: signing keys, trusted keys, the ledger.

GANSTUDIO_HOME overrides the per-user default. The directory is never inside the source
tree, so a key can never be committed or shipped with the code.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from .errors import ProvenanceError

SOURCE_TREE = Path(__file__).resolve().parents[2]


def default_home() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "ganstudio"


def studio_home() -> Path:
    """The data directory, created (owner-only) on first use."""
    return _studio_home(os.environ.get("GANSTUDIO_HOME") or str(default_home()))


@functools.lru_cache(maxsize=16)  # asked for on every signature: resolve and create it once
def _studio_home(setting: str) -> Path:
    home = Path(setting).expanduser().resolve()
    if home == SOURCE_TREE or SOURCE_TREE in home.parents:
        raise ProvenanceError("GANSTUDIO_HOME points inside the GAN Studio source tree; keys must live outside it. "
                              "Set GANSTUDIO_HOME to a directory of your own (default: the per-user data directory).")
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise ProvenanceError(f"cannot create the studio data directory (set GANSTUDIO_HOME): {e.strerror or e}") from None
    return home


def write_private_once(path: Path, data: bytes) -> None:
    """Create `path` (owner-only) holding `data`, all at once; if another process made it
    first, theirs is kept."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
