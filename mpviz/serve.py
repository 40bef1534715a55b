"""``mpviz serve``: the dashboard in a browser, each visitor their own.

textual-serve starts one dashboard process per open page (one websocket) and
relays its screen and keys. What mpviz adds is that visits are bounded and
leave nothing behind. Every visitor's dashboard starts real lesson processes,
so a visit is ended by ending every process it started: found by a mark in
their environment, which every descendant inherits (a lesson process whose
dashboard died has been adopted by init and is no longer in its tree), and by
the tree below any marked process (a program may clear its environment).

Nothing a browser sends is trusted: a page's messages are checked (a bad one
ends its visit with one line in the log), a terminal size is bounded, a
connection that does not send its request in time is closed, and connections
and each visitor's lesson processes are capped.

Imported only when ``mpviz serve`` runs: it pulls in aiohttp and textual-serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import json
import logging
import os
import resource
import shlex
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import psutil
from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager
from textual_serve.server import Server, to_int

from mpviz.runtime.supervisor import MAX_PROCESSES_ENV

log = logging.getLogger("mpviz.serve")

# In the environment of every process of a visit: "<server pid>.<visit number>".
VISIT_MARK = "MPVIZ_SERVE_VISIT"
# Seconds a dashboard gets to stop its own lessons (as after SIGTERM in a terminal)
# before whatever is left of its visit is killed.
GRACE = 2.0
# A connection that went quiet (a laptop closed, a network gone) is noticed
# within two heartbeats; a page that is closed is noticed at once.
HEARTBEAT = 15.0
# How long closing a page waits for the browser to answer.
CLOSE_TIMEOUT = 5.0
PAGES = Path(__file__).with_name("web")
STOPPED = "mpviz serve has stopped."
# The biggest terminal a page may ask for: a screen of a few hundred thousand cells, not millions.
MAX_COLUMNS, MAX_ROWS = 500, 200
# An HTTP connection must send its request within this (a connection that sends nothing, or a
# byte at a time, holds a descriptor for nothing); and at most so many are open at once.
REQUEST_TIMEOUT = 10.0
MAX_CONNECTIONS = 256
# Between two requests on one connection.
KEEPALIVE = 15.0


@dataclass(frozen=True)
class Limits:
    """What a server allows: visitors at once, seconds without input, lesson processes a visit."""

    visitors: int = 8
    idle_timeout: int = 900
    processes: int = 64


def dashboard_command(lang: str, args: list[str]) -> str:
    """The shell command textual-serve runs for every visitor: this Python's mpviz dashboard."""
    argv = [sys.executable, "-m", "mpviz"]
    if lang != "en":
        argv += ["--lang", lang]  # English is the dashboard's default and needs no option
    if shutil.which("setpriv"):
        # Should mpviz serve be killed outright (SIGKILL: no time to end its
        # visits), the kernel sends each dashboard SIGTERM, and it stops its lessons.
        argv = ["setpriv", "--pdeathsig", "TERM", "--", *argv]
    # exec: the visitor's process is the dashboard itself, not a shell waiting for it.
    return "exec " + shlex.join(argv + args)


def visit_processes(belongs: Callable[[str], bool]) -> list[psutil.Process]:
    """Live processes whose environment, or an ancestor's, carries a visit mark that ``belongs``."""
    # One pass over /proc of our own (not psutil.process_iter, whose shared
    # cache is not safe to use from several threads at once).
    table: dict[int, tuple[psutil.Process, int, str]] = {}
    for pid in psutil.pids():
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                if proc.status() == psutil.STATUS_ZOMBIE:
                    continue
                ppid = proc.ppid()
                try:
                    mark = proc.environ().get(VISIT_MARK, "")
                except psutil.AccessDenied:  # another user's process: never a visitor's
                    mark = ""
        except psutil.NoSuchProcess:
            continue
        table[pid] = (proc, ppid, mark)
    found = []
    for proc, ppid, mark in table.values():
        while not belongs(mark) and ppid in table:
            _, ppid, mark = table[ppid]
        if belongs(mark):
            found.append(proc)
    return found


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(procs: list[psutil.Process], timeout: float) -> None:
    # Polled, not psutil.wait_procs: that would reap the dashboards, which are
    # asyncio's children, and take their exit status from it.
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)


def end_visits(belongs: Callable[[str], bool], grace: float) -> list[int]:
    """End every process of the visits whose mark ``belongs``; return the pids that would not die.

    The dashboards (this server's children) are asked first, with SIGTERM, to
    stop their lessons as they do in a terminal; after ``grace`` seconds
    whatever is left is killed, scan after scan, since a dashboard may have
    started one more process while it died.
    """
    procs = visit_processes(belongs)
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            if proc.ppid() == os.getpid():
                proc.terminate()
    _wait_gone(procs, grace)
    for _ in range(10):
        procs = visit_processes(belongs)
        if not procs:
            return []
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        _wait_gone(procs, 1.0)
    return [p.pid for p in visit_processes(belongs)]


class Visit(AppService):
    """One visitor: their page's websocket and their own dashboard process."""

    def __init__(
        self, command: str, number: int, websocket: web.WebSocketResponse, download_manager: DownloadManager
    ) -> None:
        super().__init__(
            command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=self.close_page,
            download_manager=download_manager,
        )
        self.number = number
        self.mark = f"{os.getpid()}.{number}"
        self.websocket = websocket
        self.last_input = time.monotonic()
        self.reason = ""  # why the page was closed, shown on it (web/index.html)
        self.ending: asyncio.Future[None] | None = None

    def belongs(self, mark: str) -> bool:
        return mark == self.mark

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width, height)
        environment[VISIT_MARK] = self.mark
        environment[MAX_PROCESSES_ENV] = str(self.max_processes)
        return environment

    max_processes = Limits.processes

    async def send_bytes(self, data: bytes) -> bool:
        self.last_input = time.monotonic()  # a key or the mouse: someone is there
        return await super().send_bytes(data)

    async def run(self) -> None:
        await super().run()
        # The dashboard has ended (q, a failed start, or ended here): so does the
        # page, which would otherwise wait forever for a screen.
        await self.close_page()

    async def close_page(self) -> None:
        if self.reason:  # codes from 4000 are the application's own
            await self.websocket.close(code=4000, message=self.reason.encode())
        else:
            await self.websocket.close(code=WSCloseCode.GOING_AWAY)


def _duration(seconds: float) -> str:
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


class ClassroomServer(Server):
    """textual-serve's server with bounded visits that leave no process behind."""

    def __init__(self, command: str, url: str, limits: Limits) -> None:
        super().__init__(command, title="mpviz", public_url=url, templates_path=PAGES)
        self.limits = limits
        self.max_visitors = limits.visitors
        self.idle_timeout = limits.idle_timeout
        self.visits: dict[int, Visit] = {}
        self.visitors_so_far = 0
        self.prefix = f"{os.getpid()}."

    def owns(self, mark: str) -> bool:
        """Whether a visit mark is one of this server's."""
        return mark.startswith(self.prefix)

    def full(self) -> bool:
        return len(self.visits) >= self.max_visitors

    def full_message(self) -> str:
        visitors = "1 visitor" if self.max_visitors == 1 else f"{self.max_visitors} visitors"
        return (
            f"Every place is taken: {visitors} at once is the most this server allows. Try again when someone leaves."
        )

    def run(self, listener: socket.socket) -> None:
        """Serve until SIGINT (Ctrl+C), SIGTERM or SIGHUP; every visit is ended on the way out."""
        logging.basicConfig(level=logging.INFO, format="mpviz serve: %(message)s")
        asyncio.run(self._serve(listener))

    async def _serve(self, listener: socket.socket) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(_one_line_when_out_of_descriptors)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(signum, stop.set)
        runner = web.AppRunner(
            await self._make_app(),
            handle_signals=False,
            access_log=None,
            shutdown_timeout=CLOSE_TIMEOUT,
            keepalive_timeout=KEEPALIVE,
        )
        await runner.setup()
        site = GatedSite(runner, listener)
        await site.start()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    async def on_startup(self, app: web.Application) -> None:
        print(
            f"mpviz serve: {self.public_url} — every visitor gets their own dashboard, at most "
            f"{self.max_visitors} at once; Ctrl+C stops",
            flush=True,
        )

    async def on_shutdown(self, app: web.Application) -> None:
        visits = list(self.visits.values())
        for visit in visits:
            visit.reason = visit.reason or STOPPED
        closing = [asyncio.ensure_future(visit.close_page()) for visit in visits]
        # One sweep for every visit, so that all of them end within one grace period.
        left = await asyncio.to_thread(end_visits, self.owns, GRACE)
        if left:
            log.warning("processes that would not die: %s", " ".join(map(str, left)))
        await asyncio.gather(*closing, *(self.end(visit, STOPPED) for visit in visits))

    async def handle_index(self, request: web.Request) -> web.Response:
        if self.full():
            page = {"message": self.full_message()}
            return aiohttp_jinja2.render_template("full.html", request, page, status=503)
        scheme = "wss" if request.secure else "ws"
        context: dict[str, object] = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "websocket_url": f"{scheme}://{request.host}/ws",
        }
        return aiohttp_jinja2.render_template("index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT, timeout=CLOSE_TIMEOUT)
        await websocket.prepare(request)
        if self.full():  # the last place was taken after this page was served
            await websocket.close(code=4000, message=self.full_message().encode())
            return websocket
        self.visitors_so_far += 1
        visit = Visit(self.command, self.visitors_so_far, websocket, self.download_manager)
        visit.max_processes = self.limits.processes
        self.visits[visit.number] = visit
        log.info("visitor %d came (%d of %d places taken)", visit.number, len(self.visits), self.max_visitors)
        width, height = _size(request.query.get("width", "80"), request.query.get("height", "24"))
        try:
            await visit.start(width, height)
            idle = asyncio.create_task(self._end_when_idle(visit))
            try:
                await self._process_messages(websocket, visit)
            except BadMessage as exc:
                log.warning("visitor %d sent what mpviz's page never sends (%s): visit ended", visit.number, exc)
            finally:
                idle.cancel()
        finally:
            await self.end(visit, "")  # the page was closed or the connection lost
        return websocket

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service: AppService) -> None:
        """What the page sends, checked: a key (``["stdin", text]``), a new size, a ping, focus.
        Anything else ends the visit (BadMessage), one line in the log, never a traceback."""
        visit = app_service
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            kind, data = _envelope(message.data)
            if kind == "stdin" and isinstance(data, str):
                await visit.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                await visit.set_terminal_size(*_size(data.get("width"), data.get("height")))
            elif kind == "ping" and isinstance(data, (str, int, float)):
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await visit.blur()
            elif kind == "focus":
                await visit.focus()
            else:
                raise BadMessage(f"a {kind!r} message of {type(data).__name__}")

    async def _end_when_idle(self, visit: Visit) -> None:
        while (left := visit.last_input + self.idle_timeout - time.monotonic()) > 0:
            await asyncio.sleep(left)
        log.info("visitor %d idle for %s", visit.number, _duration(self.idle_timeout))
        await self.end(
            visit,
            f"Closed after {_duration(self.idle_timeout)} without a key or the mouse. Restart opens a new dashboard.",
        )

    async def end(self, visit: Visit, reason: str) -> None:
        """End a visit once, whoever asks first: its page, its idle timer or the shutdown."""
        if visit.ending is None:
            visit.reason = visit.reason or reason
            visit.ending = asyncio.ensure_future(self._end(visit))
        # Shielded: a handler cancelled at shutdown must not cut an ending short.
        await asyncio.shield(visit.ending)

    async def _end(self, visit: Visit) -> None:
        try:
            # The page learns why first; its dashboard's processes end meanwhile.
            closing = asyncio.ensure_future(visit.close_page())
            left = await asyncio.to_thread(end_visits, visit.belongs, GRACE)
            if left:
                log.warning("visitor %d: processes that would not die: %s", visit.number, " ".join(map(str, left)))
            # textual-serve's own ending (its reader and downloads): a page gone mid-send fails it.
            with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):
                await asyncio.wait_for(visit.stop(), CLOSE_TIMEOUT)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await closing
        finally:
            # Whatever went wrong on the way, the place is free again.
            self.visits.pop(visit.number, None)
        log.info("visitor %d left (%d of %d places taken)", visit.number, len(self.visits), self.max_visitors)


class BadMessage(Exception):
    """A page sent what mpviz's page never sends."""


def _envelope(text: str) -> tuple[Any, Any]:
    """A page's message: ``[kind, data]`` (BadMessage if it is not one)."""
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):
        raise BadMessage("not JSON, or nested too deep") from None
    if not isinstance(envelope, list) or not envelope or not isinstance(envelope[0], str):
        raise BadMessage("not a [kind, data] list")
    return envelope[0], envelope[1] if len(envelope) > 1 else None


def _size(width: object, height: object) -> tuple[int, int]:
    """A terminal size a page asked for, within reason."""
    columns = to_int(str(width), 80) if not isinstance(width, int) else width
    rows = to_int(str(height), 24) if not isinstance(height, int) else height
    return max(10, min(columns, MAX_COLUMNS)), max(5, min(rows, MAX_ROWS))


def _one_line_when_out_of_descriptors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
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


def serve(host: str, port: int, limits: Limits, lang: str, dashboard_args: list[str]) -> int:
    """``mpviz serve``: serve until stopped; 2 when it cannot listen."""
    try:
        listener = listen(host, port)
    except ValueError as exc:
        print(f"mpviz: error: {exc}", file=sys.stderr)
        return 2
    address, port = listener.getsockname()[:2]
    if not ipaddress.ip_address(address).is_loopback:
        print(
            f"mpviz: warning: listening on {address}: anyone who reaches it can start processes on this machine",
            file=sys.stderr,
            flush=True,
        )
    url_host = f"[{address}]" if ":" in address else address
    server = ClassroomServer(dashboard_command(lang, dashboard_args), f"http://{url_host}:{port}", limits)
    try:
        server.run(listener)
    finally:
        # However the server ended, no visitor's process outlives it.
        end_visits(server.owns, 0)
    return 0
