"""What every instrumented primitive shares: the plain contexts its helpers come from, and items in words."""

from __future__ import annotations

import reprlib
import select
from multiprocessing import context
from typing import Any

from mpviz.telemetry import MAX_TEXT

# multiprocessing's contexts, our own instances: the locks inside an Event, a
# Queue or a Pool come from these, so they say nothing.  (Instances of our
# own, so that code which swaps the factories of multiprocessing's shared
# context objects cannot make them ours.)
PLAIN: dict[str, context.BaseContext] = {
    "fork": context.ForkContext(),
    "spawn": context.SpawnContext(),
    "forkserver": context.ForkServerContext(),
}


def plain(ctx: Any) -> context.BaseContext:
    """multiprocessing's own context for the start method of ``ctx`` (ours or theirs; None: the default)."""
    if ctx is None:
        ctx = context._default_context.get_context()
    return PLAIN[ctx.get_start_method()]


# Seconds a blocking get or recv waits before it reports itself blocked: an
# item just put may still be in the putter's feeder thread.
GLANCE = 0.005


def readable(fd: int, seconds: float) -> bool:
    """Is there something to read on ``fd``, now or within ``seconds``?

    A bare ``poll``: multiprocessing's own ``Connection.poll`` builds a
    selector at every call, which costs more than a get or a recv itself."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(seconds * 1000))


_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = MAX_TEXT
_repr.maxlong = 40


def item_text(item: object) -> str:
    """A bounded, printable form of an item, cheap for big ones.

    It never raises: a preview is mpviz's, and must never change what the
    program does.  One that cannot be made (an integer of 5000 digits has no
    text; a ``__repr__`` of the program's may raise anything) is a placeholder."""
    try:
        if isinstance(item, str):
            return item if len(item) <= MAX_TEXT else item[: MAX_TEXT - 1] + "…"
        if isinstance(item, (bytes, bytearray)) and len(item) > MAX_TEXT:
            # reprlib would build the whole repr first: megabytes for a big message.
            return repr(item[:MAX_TEXT])[: MAX_TEXT - 1] + "…"
        return _repr.repr(item)
    except Exception:
        return f"<{type(item).__name__}: no preview>"
