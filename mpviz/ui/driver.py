"""The terminal driver: Textual's, with an input thread that sleeps until a key comes.

Textual's ``LinuxDriver`` looks at the terminal ten times a second, keys or
not, so that its parser can tell a lone Escape from the start of a sequence
once ``ESCDELAY`` has passed.  With 100 processes on screen that polling was a
tenth of the dashboard's CPU.  This driver's input thread waits for the
terminal without a timeout; it looks again every tenth of a second only for
a moment after input came (the parser's Escape delay, and some), and the
driver's exit event wakes it through a pipe.  Everything else is Textual's.
"""

from __future__ import annotations

import contextlib
import math
import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual import constants
from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

POLL_S = 0.1  # Textual's own pace, while an Escape may still be waiting for the rest of a sequence


class _WakingEvent(threading.Event):
    """An event that, once set, wakes the input thread waiting on the terminal."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self.wake_fd = wake_fd  # -1 once the driver closed its pipe

    def set(self) -> None:
        super().set()
        if self.wake_fd >= 0:
            with contextlib.suppress(BlockingIOError):  # full of wake-ups already
                os.write(self.wake_fd, b"x")


class TerminalDriver(LinuxDriver):
    """``LinuxDriver`` without the input thread's ten wake-ups a second, resumed by
    SIGCONT only if it was suspended."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._exit = self.exit_event = _WakingEvent(self._wake_w)

    def _sigcont_application(self, *_: object) -> None:
        # Textual resumes on every SIGCONT.  After a SIGSTOP from outside (kill -STOP,
        # not Ctrl+Z) nothing was suspended: resuming would start a second input
        # thread, left blocked reading the terminal when the app ends, and the
        # process would never exit.
        if self._key_thread is None or not self._key_thread.is_alive():
            super()._sigcont_application()

    def run_input_thread(self) -> None:
        """Textual's loop (``LinuxDriver.run_input_thread``), waiting without a timeout when idle."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        # How long after input the parser may still hold an Escape it is timing.
        # Counted in polls that found nothing, not in seconds: each lasted POLL_S at least, and a
        # thread kept from the CPU past a window of seconds (a loaded machine) slept with an Escape
        # read and never said, until the next key.
        settle_polls = math.ceil(max(1.0, 4 * constants.ESCAPE_DELAY) / POLL_S)
        quiet = settle_polls  # polls since the last input

        def process(selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> bool:
            got = False
            for last, (key, mask) in loop_last(selector_events):
                if key.fd == self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
                    continue
                if mask & selectors.EVENT_READ:
                    got = True
                    unicode_data = decode(os.read(self.fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        break  # stdin is piped
                    for event in parser.feed(unicode_data):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)
            return got

        try:
            while not self.exit_event.is_set():
                timeout = POLL_S if quiet < settle_polls else None
                quiet = 0 if process(selector.select(timeout)) else quiet + 1
            selector.unregister(self.fileno)
            process(selector.select(POLL_S), final=True)
        finally:
            selector.close()
            with contextlib.suppress(EOFError, ParseError):
                for _event in parser.feed(""):
                    pass

    def close(self) -> None:
        super().close()
        self._exit.wake_fd = -1  # never written again: the number may be another file's soon
        os.close(self._wake_r)
        os.close(self._wake_w)
