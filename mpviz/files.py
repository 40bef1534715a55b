"""Checks of the files a user names, with one wording: the system's own (``os.strerror``).

Checked before anything starts, so that a refused run creates nothing and
says why in one line.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def unwritable(path: Path) -> str:
    """Why a file cannot be written at ``path`` (empty if it can).

    It creates nothing and opens nothing (a FIFO's reader would see its end):
    the file is opened once, by whoever writes it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        folder = path.parent
        try:
            if not stat.S_ISDIR(folder.stat().st_mode):
                return os.strerror(errno.ENOTDIR)
        except OSError as exc:
            return exc.strerror or str(exc)
        return "" if os.access(folder, os.W_OK | os.X_OK) else os.strerror(errno.EACCES)
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISDIR(mode):
        return os.strerror(errno.EISDIR)
    if stat.S_ISBLK(mode):
        return "it is a block device"
    return "" if os.access(path, os.W_OK) else os.strerror(errno.EACCES)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same inode, or (not made yet) the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
