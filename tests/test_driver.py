"""The terminal driver's input thread (mpviz/ui/driver.py), on its own: a pty, no app."""

from __future__ import annotations

import os
import threading
import time
import tty

from conftest import wait_for
from textual import events

from mpviz.ui import driver


def test_a_lone_escape_is_said_however_long_the_input_thread_is_kept_from_the_cpu(monkeypatch) -> None:
    """The input thread polls a moment after a key, so that the parser can tell a lone Escape from
    the start of a sequence, then sleeps.  Before: the moment was a second of the clock, and a thread
    kept from the CPU past it right after reading the Escape (a loaded machine; here the clock jumps
    instead) slept with the Escape held, never said until the next key."""
    keys: list[str] = []
    reader = driver.TerminalDriver.__new__(driver.TerminalDriver)  # (no app: only the input thread)
    reader._debug = False
    reader._wake_r, wake_w = os.pipe()
    reader.exit_event = driver._WakingEvent(wake_w)
    master, reader.fileno = os.openpty()
    tty.setraw(reader.fileno)
    reader.process_message = lambda message: keys.append(message.key) if isinstance(message, events.Key) else None  # type: ignore[method-assign]
    thread = threading.Thread(target=reader.run_input_thread, daemon=True)
    real = time.monotonic
    looks = iter(range(10**9))

    def stalled() -> float:
        """The clock as the input thread sees it when it is kept from the CPU for 1.5 s after the
        Escape was read (its first look is before it waits, its second once it has read the key);
        every other thread sees it as it is."""
        if threading.current_thread() is not thread:
            return real()
        return real() + (1.5 if next(looks) >= 2 else 0.0)

    monkeypatch.setattr(time, "monotonic", stalled)
    thread.start()
    try:
        os.write(master, b"\x1b")
        wait_for(lambda: keys, timeout=30, what="the Escape said")
        assert keys == ["escape"]
    finally:
        reader.exit_event.set()
        thread.join(30)
        for fd in (master, reader.fileno, reader._wake_r, wake_w):
            os.close(fd)
