"""CPython's own multiprocessing tests, run on mpviz.sync's classes.

``test._test_multiprocessing`` builds its ``WithProcessesTest*`` classes by
mixing each ``_Test*`` class with ``ProcessesMixin``, whose attributes
(``Lock``, ``Queue``, ``Process`` …) the tests call.  Here the same classes
are built with a mixin holding mpviz.sync's classes instead, once per start
method, and each class runs under its start method (multiprocessing's
default, which mpviz.sync's default context shares).  A test that cannot
apply is skipped below with its reason.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import unittest
from typing import Any

import pytest

from mpviz import sync

cpython: Any = pytest.importorskip("test._test_multiprocessing", reason="this Python ships without its test package")

# A hung test fails after this many seconds instead of hanging the suite.
pytestmark = pytest.mark.timeout(120)

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

# test name -> why it cannot apply to mpviz.sync.
SKIPS: dict[str, str] = {}


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
            cls.previous_method = multiprocessing.get_start_method(allow_none=True)
            multiprocessing.set_start_method(method, force=True)
            super().setUpClass()

        @classmethod
        def tearDownClass(cls) -> None:
            super().tearDownClass()
            multiprocessing.set_start_method(cls.previous_method, force=True)

    return Mixin


def _skip(cls: type) -> None:
    for test, reason in SKIPS.items():
        if hasattr(cls, test):
            setattr(cls, test, unittest.skip(reason)(getattr(cls, test)))


for _method in sync.START_METHODS:
    _mix = _mixin(_method)
    for _name in CLASSES:
        _base = getattr(cpython, f"_Test{_name}")
        _cls = type(f"Test{_name}_{_method}", (_base, _mix, unittest.TestCase), {})
        _cls.__module__ = __name__
        _skip(_cls)
        globals()[_cls.__name__] = _cls
