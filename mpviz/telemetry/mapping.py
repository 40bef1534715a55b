"""A file's bytes mapped shared, through libc: no descriptor kept (a ring's, the run's speed).

Mapped through libc, not ``mmap.mmap``: that keeps a duplicate of the descriptor for as long as the
mapping lives, a low number in a watched program (which may close it and open a file of its own under
that number, which ours would then close), and one more descriptor per process in the dashboard.

A module of its own: ``ctypes`` costs a spawned child ~2 ms to import, and a watched process maps
nothing until it first writes a record into its ring or first sleeps (see ``mpviz.telemetry.reporter``).
"""

from __future__ import annotations

import ctypes
import mmap
import os

from mpviz.telemetry.ring_layout import PAGE

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
_libc.munmap.restype = ctypes.c_int
_libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
_libc.madvise.restype = ctypes.c_int
_libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
MADV_REMOVE = 9  # (Linux) free the pages and their backing: the next write finds a fresh zero page
_MAP_FAILED = ctypes.c_void_p(-1).value


class Mapping:
    """A file's bytes mapped shared, read (and written, if ``writable``) through ``view``; no
    descriptor kept (``mmap.mmap`` keeps a duplicate, at the lowest free number: a descriptor the
    program would see, and could close or be given again)."""

    def __init__(self, fd: int, length: int, writable: bool = True) -> None:
        prot = mmap.PROT_READ | mmap.PROT_WRITE if writable else mmap.PROT_READ
        addr = _libc.mmap(None, length, prot, mmap.MAP_SHARED, fd, 0)
        if addr is None or addr == _MAP_FAILED:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self._addr, self._length = addr, length
        self.view = memoryview((ctypes.c_ubyte * length).from_address(addr)).cast("B")
        self.words = self.view[:PAGE].cast("Q")  # the header's counters (a ring's)

    def release(self, offset: int, length: int) -> None:
        """Give back the memory of these pages (read already): a ring costs what it holds, not its size."""
        if self._addr:
            _libc.madvise(self._addr + offset, length, MADV_REMOVE)

    def close(self) -> None:
        if self._addr:
            self.words.release()
            self.view.release()
            _libc.munmap(self._addr, self._length)
            self._addr = 0
