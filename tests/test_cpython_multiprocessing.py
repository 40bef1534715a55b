"""CPython's own multiprocessing tests, run on mpviz.sync's classes.

``test._test_multiprocessing`` builds its ``WithProcessesTest*`` classes by
mixing each ``_Test*`` class with ``ProcessesMixin``, whose attributes
(``Lock``, ``Queue``, ``Process`` …) the tests call.  Here the same classes
are built with a mixin holding mpviz.sync's classes instead, once per start
method, and each class runs under its start method (multiprocessing's
default, which mpviz.sync's default context shares).  The classes are
built in ``cpython_tests.py``.

Reporting is on throughout, as under the dashboard: this process and every
process it starts write their records to one pipe that a thread reads.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from mpviz.sync import boot
from mpviz.telemetry import ChannelReporter, decode, install_reporter, uninstall_reporter

pytest.importorskip("test._test_multiprocessing", reason="this Python ships without its test package")

from cpython_tests import TESTS  # only once the test package is known to be there

# A hung test fails after this many seconds instead of hanging the suite.
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module", autouse=True)
def records() -> Iterator[Counter[str]]:
    """Records read while CPython's tests run, counted by kind."""
    reader, writer = multiprocessing.connection.Pipe(duplex=False)
    counts: Counter[str] = Counter()

    def read() -> None:
        try:
            while True:
                counts[decode(reader.recv_bytes()).kind] += 1
        except EOFError:
            return

    # A daemon: a child a test left running may keep the pipe open.
    threading.Thread(target=read, name="records", daemon=True).start()
    install_reporter(ChannelReporter(writer))
    outside, boot.current = boot.current, boot.Setup(channel=writer)
    yield counts
    boot.current = outside
    uninstall_reporter()
    writer.close()


# Collected here, built there.
globals().update(TESTS)


def test_the_tests_above_were_reported(records: Counter[str]) -> None:
    """Reporting really ran (in the children too), and said what the tests did."""
    for kind in ("proc.spawn", "proc.start", "proc.exit", "prim.new", "lock.acquired", "sem.released", "cond.wait"):
        assert records[kind], f"no {kind} record"
    for kind in ("event.set", "barrier.pass", "queue.put", "queue.get", "pipe.send", "pipe.recv", "pool.task"):
        assert records[kind], f"no {kind} record"
