"""``mpviz serve``'s server: textual-serve's, each visit bounded (visitors at once, seconds idle,
lesson processes) and ended once, whoever asks first; and what a page sends, checked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager
from textual_serve.server import Server, to_int

from mpviz.runtime.supervisor import MAX_PROCESSES_ENV
from mpviz.serve.connections import GatedSite, one_line_when_out_of_descriptors
from mpviz.serve.visits import VISIT_MARK, end_visits

log = logging.getLogger("mpviz.serve")

# Seconds a dashboard gets to stop its own lessons (as after SIGTERM in a terminal)
# before whatever is left of its visit is killed.
GRACE = 2.0
# A connection that went quiet (a laptop closed, a network gone) is noticed
# within two heartbeats; a page that is closed is noticed at once.
HEARTBEAT = 15.0
# How long closing a page waits for the browser to answer.
CLOSE_TIMEOUT = 5.0
PAGES = Path(__file__).parent.with_name("web")  # mpviz/web
STOPPED = "mpviz serve has stopped."
# The biggest terminal a page may ask for: a screen of a few hundred thousand cells, not millions.
MAX_COLUMNS, MAX_ROWS = 500, 200
# Between two requests on one connection.
KEEPALIVE = 15.0


@dataclass(frozen=True)
class Limits:
    """What a server allows: visitors at once, seconds without input, lesson processes a visit."""

    visitors: int = 8
    idle_timeout: int = 900
    processes: int = 64


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
        loop.set_exception_handler(one_line_when_out_of_descriptors)
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
