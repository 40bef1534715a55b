"""``mpviz serve``'s listening socket and its connections, bounded: each must send its request
in time, and so many at most are open at once (a descriptor each)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import resource
import socket
from typing import Any

from aiohttp import web

log = logging.getLogger("mpviz.serve")

# An HTTP connection must send its request within this (a connection that sends nothing, or a
# byte at a time, holds a descriptor for nothing); and at most so many are open at once.
REQUEST_TIMEOUT = 10.0
MAX_CONNECTIONS = 256


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or ValueError with one line saying why not."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise ValueError(f"--host {host!r} is not an address this machine can listen on") from None
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        what = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({os.strerror(exc.errno or 0)})"
        raise ValueError(f"port {port} on {host} {what}") from None


def one_line_when_out_of_descriptors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's word when accept() finds no descriptor left (it waits a second and accepts again):
    one line in the log, not a traceback; anything else as asyncio says it."""
    exc = context.get("exception")
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
        log.warning("out of descriptors (%s): new connections wait a second", exc.strerror)
        return
    loop.default_exception_handler(context)


class Gate(asyncio.Protocol):
    """One HTTP connection, before aiohttp's: closed if it does not send its first request head within
    ``REQUEST_TIMEOUT``, or at once past ``limit`` open (a descriptor each: ``MAX_CONNECTIONS``, or a
    quarter of this process's descriptors, the rest left to the visitors' dashboards)."""

    open = 0
    limit = MAX_CONNECTIONS

    def __init__(self, inner: asyncio.Protocol) -> None:
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.timer: asyncio.TimerHandle | None = None
        self.counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if Gate.open >= Gate.limit:
            transport.abort()
            return
        Gate.open += 1
        self.counted = True
        self.timer = asyncio.get_running_loop().call_later(REQUEST_TIMEOUT, transport.abort)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.timer is not None:
            self.head = (self.head + data)[-4096:]
            if b"\r\n\r\n" in self.head:  # a whole request head: aiohttp's from here on
                self.timer.cancel()
                self.timer = None
                self.head = b""
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.counted:
            Gate.open -= 1
            self.counted = False
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class GatedSite(web.SockSite):
    """aiohttp's site on our listening socket, every connection through a :class:`Gate`."""

    async def start(self) -> None:
        await web.BaseSite.start(self)  # known to the runner, which stops it at the end
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        Gate.limit = MAX_CONNECTIONS if soft == resource.RLIM_INFINITY else max(8, min(MAX_CONNECTIONS, soft // 4))
        factory = self._runner.server
        assert factory is not None
        loop = asyncio.get_running_loop()
        # asyncio accepts up to ``backlog`` connections at a time before the gate can close any:
        # no more than the gate lets in, or a burst of them takes every descriptor first.
        backlog = min(self._backlog, Gate.limit)
        self._server = await loop.create_server(lambda: Gate(factory()), sock=self._sock, backlog=backlog)
