"""CPython's own multiprocessing tests, run on mpviz.sync's classes.

``test._test_multiprocessing`` builds its ``WithProcessesTest*`` classes by
mixing each ``_Test*`` class with ``ProcessesMixin``, whose attributes
(``Lock``, ``Queue``, ``Process`` …) the tests call.  Here the same classes
are built with a mixin holding mpviz.sync's classes instead, once per start
method, and each class runs under its start method (multiprocessing's
default, which mpviz.sync's default context shares).  The classes are
built in ``cpython_tests.py``.

Reporting is on throughout, as under the dashboard: this process and every
process it starts connect to a socket that a thread reads (watching.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.watching import Records, watching

pytest.importorskip("test._test_multiprocessing", reason="this Python ships without its test package")

from helpers.cpython_tests import RAN, TESTS  # only once the test package is known to be there

# A hung test fails after this many seconds instead of hanging the suite.
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module", autouse=True)
def records() -> Iterator[Records]:
    """Records read while CPython's tests run."""
    with watching() as got:
        yield got


# Collected here, built there.
globals().update(TESTS)


def test_the_tests_above_were_reported(records: Records) -> None:
    """Reporting really ran (in the children too), and said what the tests did."""
    if set(TESTS) != RAN:
        pytest.skip("looks at the records of every class above, and some did not run")
    kinds = {e.kind for e in records.events}
    for kind in ("proc.spawn", "proc.start", "proc.exit", "prim.new", "lock.acquired", "sem.released"):
        assert kind in kinds, f"no {kind} record"
    for kind in ("cond.wait", "event.set", "barrier.pass", "queue.put", "queue.get", "pipe.send", "pool.task"):
        assert kind in kinds, f"no {kind} record"
    assert len({e.pid for e in records.events if e.kind == "proc.start"}) > 100
