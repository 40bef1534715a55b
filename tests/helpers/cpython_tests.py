"""CPython's multiprocessing test classes, built on mpviz.sync's classes (see test_cpython_multiprocessing.py).

A module of its own, without pytest: every child of these tests imports it
to find the test class whose method it runs.

No test is skipped here: every one applies and passes.  CPython's own
skips stand (a test "not appropriate for fork" under fork).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import unittest

import test._test_multiprocessing as cpython

from mpviz import sync

CLASSES = [
    "Lock",
    "Semaphore",
    "Condition",
    "Event",
    "Barrier",
    "Queue",
    "Connection",
    "Poll",
    "Value",
    "Array",
    "Process",
    "SubclassingProcess",
    "Pool",
]


class _UpperCaser(sync.Process):
    """CPython's ``_UpperCaser``, word for word, on mpviz.sync's Process (it subclasses
    ``multiprocessing.Process`` at import, so its test would not run ours)."""

    def __init__(self) -> None:
        sync.Process.__init__(self)
        self.child_conn, self.parent_conn = sync.Pipe()

    def run(self) -> None:
        self.parent_conn.close()
        for s in iter(self.child_conn.recv, None):
            self.child_conn.send(s.upper())
        self.child_conn.close()

    def submit(self, s: str) -> str:
        assert type(s) is str
        self.parent_conn.send(s)
        return self.parent_conn.recv()

    def stop(self) -> None:
        self.parent_conn.send(None)
        self.parent_conn.close()
        self.child_conn.close()


cpython._UpperCaser = _UpperCaser


# The classes that have run in this process.
RAN: set[str] = set()


def _mixin(method: str) -> type:
    ctx = sync.get_context(method)

    class Mixin(cpython.BaseMixin):
        TYPE = "processes"
        Process = ctx.Process
        connection = multiprocessing.connection
        current_process = staticmethod(sync.current_process)
        parent_process = staticmethod(sync.parent_process)
        active_children = staticmethod(sync.active_children)
        set_executable = staticmethod(sync.set_executable)
        Pool = staticmethod(ctx.Pool)
        Pipe = staticmethod(ctx.Pipe)
        Queue = staticmethod(ctx.Queue)
        JoinableQueue = staticmethod(ctx.JoinableQueue)
        Lock = staticmethod(ctx.Lock)
        RLock = staticmethod(ctx.RLock)
        Semaphore = staticmethod(ctx.Semaphore)
        BoundedSemaphore = staticmethod(ctx.BoundedSemaphore)
        Condition = staticmethod(ctx.Condition)
        Event = staticmethod(ctx.Event)
        Barrier = staticmethod(ctx.Barrier)
        Value = staticmethod(ctx.Value)
        Array = staticmethod(ctx.Array)
        RawValue = staticmethod(ctx.RawValue)
        RawArray = staticmethod(ctx.RawArray)

        @classmethod
        def setUpClass(cls) -> None:
            # The tests read multiprocessing's start method (and so do our
            # default context and a spawned child's preparation).
            RAN.add(cls.__name__)
            cls.previous_method = multiprocessing.get_start_method(allow_none=True)
            multiprocessing.set_start_method(method, force=True)
            # A forkserver started from here on has this module loaded: its
            # children need not import it each (CPython preloads its own too).
            multiprocessing.set_forkserver_preload([__name__])
            super().setUpClass()

        @classmethod
        def tearDownClass(cls) -> None:
            super().tearDownClass()
            multiprocessing.set_start_method(cls.previous_method, force=True)

    return Mixin


def _build() -> dict[str, type]:
    built = {}
    for method in sync.START_METHODS:
        mixin = _mixin(method)
        for name in CLASSES:
            base = getattr(cpython, f"_Test{name}")
            cls = type(f"Test{name}_{method}", (base, mixin, unittest.TestCase), {})
            cls.__module__ = __name__
            built[cls.__name__] = cls
    return built


# Module attributes: a child finds the class of the method it runs by name.
TESTS = _build()
globals().update(TESTS)
