"""multiprocessing, reporting what it does: a drop-in for ``import multiprocessing``.

Every public name of ``multiprocessing`` is here, the same objects' behaviour,
errors, repr and pickling (our classes subclass multiprocessing's), and each
primitive reports every step through :func:`mpviz.telemetry.emit`: the
dashboard derives holders, waiters, values, flags and depths from those
records alone, without polling and without ``qsize()``.  Every factory also
takes a keyword-only ``name``; without it a primitive is named after the
variable its creating line assigns to.

Order of records.  Records from different processes travel on different pipes
and may arrive out of order, so each carries the time of the step it reports,
chosen so that sorting by time gives a causal order: an operation that lets
another process proceed (release, set, put, send, notify) is stamped *before*
it happens, and one that proceeds (acquired, woke, get, recv) *after*.  The
record itself is sent after the operation, so a process killed in between
never leaves the dashboard believing in a step that did not happen.  Reporting
never raises into the caller and never changes what an operation returns or
raises.

Besides multiprocessing's names: :func:`sleep` and :func:`real_seconds`
(lesson time), :func:`use_context`, :func:`context`, ``START_METHODS``,
:class:`Pace`, :func:`exit_data` and ``ORPHAN_EXIT``.

This package imports only the standard library and ``mpviz.telemetry``:
every child process imports it, and only what it uses (the primitives'
modules load when first asked for).
"""

from __future__ import annotations

import importlib
from multiprocessing import AuthenticationError, BufferTooShort, ProcessError, TimeoutError

from mpviz.sync import process
from mpviz.sync.boot import ORPHAN_EXIT, Pace
from mpviz.sync.context import default_context, instrument_multiprocessing
from mpviz.sync.process import exit_data

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ORPHAN_EXIT",
    "START_METHODS",
    "Array",
    "AuthenticationError",
    "Barrier",
    "BoundedSemaphore",
    "BufferTooShort",
    "Condition",
    "Event",
    "JoinableQueue",
    "Lock",
    "Manager",
    "Pace",
    "Pipe",
    "Pool",
    "Process",
    "ProcessError",
    "Queue",
    "RLock",
    "RawArray",
    "RawValue",
    "Semaphore",
    "SimpleQueue",
    "TimeoutError",
    "Value",
    "active_children",
    "allow_connection_pickling",
    "context",
    "cpu_count",
    "current_process",
    "exit_data",
    "freeze_support",
    "get_all_start_methods",
    "get_context",
    "get_logger",
    "get_start_method",
    "instrument_multiprocessing",
    "log_to_stderr",
    "parent_process",
    "real_seconds",
    "reducer",
    "set_executable",
    "set_forkserver_preload",
    "set_start_method",
    "sleep",
    "use_context",
]

START_METHODS = ("fork", "spawn", "forkserver")

# What a program gets from multiprocessing passes for multiprocessing's own:
# its repr, type() and module say so (see base.pass_as_theirs).
# multiprocessing's public names are its default context's methods.  Ours
# are too, except the primitives: there our classes themselves (they take the
# default context when given none), so that ``sync.Lock`` is also a type.
# Those are imported when first asked for (below): a watched program's
# process imports this package before its first line, and pays only for
# what it uses.
_LATER = {
    "Barrier": "events",
    "BoundedSemaphore": "locks",
    "Condition": "events",
    "Event": "events",
    "JoinableQueue": "queues",
    "Lock": "locks",
    "Pool": "pool",
    "Queue": "queues",
    "RLock": "locks",
    "Semaphore": "locks",
    "SimpleQueue": "queues",
    # Lesson time, loaded with the first sleep (a program's process never has one).
    "real_seconds": "pace",
    "sleep": "pace",
}


def __getattr__(name: str) -> Any:
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mpviz.sync.{module}"), name)
    globals()[name] = value
    return value


Array = default_context.Array
Manager = default_context.Manager
Pipe = default_context.Pipe
Process = process.Process
RawArray = default_context.RawArray
RawValue = default_context.RawValue
Value = default_context.Value
active_children = default_context.active_children
allow_connection_pickling = default_context.allow_connection_pickling
cpu_count = default_context.cpu_count
current_process = default_context.current_process
freeze_support = default_context.freeze_support
get_all_start_methods = default_context.get_all_start_methods
get_context = default_context.get_context
get_logger = default_context.get_logger
get_start_method = default_context.get_start_method
log_to_stderr = default_context.log_to_stderr
parent_process = default_context.parent_process
reducer = default_context.reducer
set_executable = default_context.set_executable
set_forkserver_preload = default_context.set_forkserver_preload
set_start_method = default_context.set_start_method


def use_context(method: str) -> None:
    """Choose the start method every later primitive and process uses (multiprocessing's, too)."""
    if method not in START_METHODS:
        raise ValueError(f"start method must be one of {', '.join(START_METHODS)}, not {method!r}")
    default_context.set_start_method(method, force=True)


def context() -> Any:
    """The context of the current start method (ours): ``get_context()``."""
    return default_context.get_context()
