"""The event record, and this process's reporter.

Every process that takes part in a run reports what it does as small flat
records, ``Event(t_ns, pid, kind, obj, data)``:

* ``t_ns`` — ``time.monotonic_ns()``, system-wide on Linux, so records from
  different processes can be put in one order;
* ``pid`` — the process the record is about (the reporter itself, except for
  the ``proc.*`` records that a parent writes about its child);
* ``kind`` — a dotted name: ``lock.acquired``, ``queue.put``, ``proc.state`` …;
* ``obj`` — the primitive or state the record concerns (a primitive's id,
  ``"singing"``);
* ``data`` — a small dict of plain values.

Where a record goes is this process's reporter: nowhere (a process nobody
watches), the dashboard's own inbox (in the dashboard), or the process's
connection to the dashboard (:mod:`mpviz.telemetry.reporter`).
"""

from __future__ import annotations

import os
import time
from collections import namedtuple
from collections.abc import Callable

TYPE_CHECKING = False  # (typing costs every process of a run ~3 ms to import, ~2 ms to tear down)
if TYPE_CHECKING:
    from typing import Any, NamedTuple

# The longest text a record carries for an item, a message or an error.
MAX_TEXT = 200

_MPVIZ = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# mpviz's machinery, in every process of a run: never a frame of the user's stack, never an
# operation's site (a lesson's own code is: its workers are the tutorial's).  (Here, with the
# record, not with the stacks: every process needs it for its sites, few are ever asked for stacks.)
MACHINERY = tuple(
    _MPVIZ + part for part in ("sync" + os.sep, "telemetry" + os.sep, "inject.py", "_hook" + os.sep, "runtime" + os.sep)
)
_STDLIB = os.path.dirname(os.__file__) + os.sep  # (sysconfig would cost every process its import)
_PACKAGES = tuple(_STDLIB + folder + os.sep for folder in ("site-packages", "dist-packages"))
# Files already told apart (in_machinery), read directly on the sites' hot path.
skipped: dict[str, bool] = {}


def in_machinery(filename: str) -> bool:
    """Is this file mpviz's machinery or the standard library's (never an operation's site)?
    (Here, beside MACHINERY: a watched process's ``threading.Lock`` asks it of its caller before
    mpviz.sync's sites are loaded.)"""
    skip = skipped.get(filename)
    if skip is None:
        skip = skipped[filename] = (
            filename.startswith(MACHINERY)
            or (filename.startswith(_STDLIB) and not filename.startswith(_PACKAGES))
            or filename.startswith("<frozen")
        )
    return skip


if TYPE_CHECKING:

    class Event(NamedTuple):
        t_ns: int
        pid: int
        kind: str
        obj: str
        data: dict[str, Any]

else:  # the same tuple, without typing's class machinery at run time
    Event = namedtuple("Event", "t_ns pid kind obj data")


class Malformed(ValueError):
    """Something read (a frame on a connection, a line of a recording) that is not a valid record."""


def now_ns() -> int:
    return time.monotonic_ns()


_new = tuple.__new__  # an Event made without NamedTuple's own __new__ (a Python function): the hot path


def short(value: object) -> str:
    """A bounded, printable form of a value for a record; never an error (a placeholder instead)."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:
        text = f"<{type(value).__name__}: no preview>"
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


Reporter = Callable[[Event], None]


def _discard(event: Event) -> None:
    """Reporter of a process that nobody watches: primitives still work."""


_reporter: Reporter = _discard

# An operation's record, told without building it (kind, obj, data, site, thread, t_ns): the
# reporter's ``operation`` if it has one (a process's ring), used by ``mpviz.sync``'s hot path.
Operation = Callable[[str, str, "dict[str, Any] | None", str, int, int], None]
operation: Operation | None = None
# A write to stdout or stderr as a record (``proc.wrote``), if the reporter can take it now whole:
# the reporter's ``printed`` if it has one (see mpviz.sync.printing).  False: the pipe takes it.
printed: Callable[[Event], bool] | None = None
# The ring behind ``operation`` (the reporter's ``ring``: a ``RingWriter``), into which a lock's
# records go straight (``RingWriter.bare``).  None in a child just forked, until it has a reporter of
# its own: the ring it inherited is its parent's.
ring: Any = None


def operation_event(kind: str, obj: str, data: dict[str, Any] | None, at: str, th: int, t_ns: int, pid: int) -> Event:
    """An operation told in parts (``operation``, ``RingWriter.record``), as the record it is."""
    full = {} if data is None else dict(data)
    if at:
        full["at"] = at
    if th:
        full["th"] = th
    return Event(t_ns, pid, kind, str(obj), full)


def install_reporter(reporter: Reporter) -> None:
    global _reporter, operation, printed, ring
    _reporter = reporter
    operation = getattr(reporter, "operation", None)
    printed = getattr(reporter, "printed", None)
    ring = getattr(reporter, "ring", None) if operation is not None else None


# This process's forks: a ring's writer made before the last one is a parent's, not this process's own
# (mpviz.telemetry.ring).  Counted here, by the first hook a child runs: the writer's module is loaded
# late, and its own hook would run after the hook that gives the child its ring, and disown that ring.
forks = 0


def _forked() -> None:
    global ring, forks
    ring = None
    forks += 1


os.register_at_fork(after_in_child=_forked)


def reinstall_reporter(reporter: Reporter) -> None:
    """``reporter``'s ``operation`` changed (it mapped its ring): taken again, if it is this process's."""
    if _reporter is reporter:
        install_reporter(reporter)


def uninstall_reporter() -> None:
    install_reporter(_discard)


def emit(
    kind: str, obj: str = "", data: dict[str, Any] | None = None, *, t_ns: int | None = None, pid: int | None = None
) -> None:
    """Send one record through this process's reporter.

    ``obj`` may be a ``StrEnum`` member (a lesson's words): it travels as the
    plain string, so that no reader has to import the lesson to read it.
    """
    _reporter(
        _new(
            Event,
            (
                now_ns() if t_ns is None else t_ns,
                os.getpid() if pid is None else pid,
                kind,
                obj if type(obj) is str else str(obj),
                data or {},
            ),
        )
    )


def report(state: str, **data: Any) -> None:
    """Say what this process is doing now, in words ("singing", "bought a ticket").

    This is the one call lesson code makes besides using the primitives: it
    names the states the lesson is about.
    """
    emit("proc.state", state, data)
