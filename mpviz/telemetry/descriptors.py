"""mpviz's descriptors in a program's process: placed high, and let go only while they are still ours.

A program may close every descriptor (``os.closerange``) and open files
again, which get the low numbers: a descriptor mpviz holds at a low number
could come to name a file of the program's, which mpviz would then write to
or close.  So the connection (and a ring not mapped yet) sit at a high
number, and each is checked to still be what mpviz made before it is closed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket

# A process's connection is moved to a descriptor at least this high (under a lower limit, the highest
# of its halves below it): a program that closes every descriptor (``os.closerange``) and opens files again gets
# the low numbers, so the number a reporter holds does not come to name another file.
HIGH_FD = 512


def high(sock: socket.socket) -> socket.socket:
    """The connection moved to a descriptor number of at least ``HIGH_FD`` (see there)."""
    fd = high_fd(sock.fileno(), keep=True)
    if fd == sock.fileno():
        return sock
    sock.close()
    return socket.socket(fileno=fd)


def high_fd(fd: int, keep: bool = False) -> int:
    """``fd`` moved to a descriptor number of at least ``HIGH_FD`` (see there), close-on-exec; the
    old one closed, unless ``keep``.  No descriptor that high: it stays where it is.

    Under a lower limit of descriptors, the highest of HIGH_FD / 2, / 4 … below it (the kernel
    refuses a number past the limit: asked, not read, as ``resource`` costs each process its import)."""
    low = HIGH_FD
    while fd < low:
        try:
            high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, low)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                return fd  # (EMFILE: none free that high)
            low //= 2  # past the limit
            continue
        if not keep:
            os.close(fd)
        return high
    return fd


class RingFile:
    """A ring handed over and not mapped yet: its descriptor (at a high number), which a program
    may close (``os.closerange``) and even have given another file since, and its size."""

    def __init__(self, fd: int, size: int) -> None:
        st = os.fstat(fd)
        self.fd = fd
        self.size = size
        self._id = (st.st_dev, st.st_ino)

    def ours(self) -> bool:
        """Whether the descriptor still is the ring."""
        try:
            st = os.fstat(self.fd)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._id

    def close(self) -> None:
        """Let go of the descriptor; closed only if it still is the ring (else it is the program's now)."""
        if self.ours():
            with contextlib.suppress(OSError):
                os.close(self.fd)


def forget(sock: socket.socket, ours: bool) -> None:
    """Let go of a connection; its descriptor is closed only if it is still ours (the program may
    have closed it, and its number may name a file of the program's by now)."""
    if ours:
        with contextlib.suppress(OSError):
            sock.close()
    else:
        sock.detach()
