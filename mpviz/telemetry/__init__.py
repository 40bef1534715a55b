"""What every process of a run reports, and how: three rooms.

* :mod:`~mpviz.telemetry.record` — the record (:class:`Event`) and
  :func:`emit` / :func:`report`, through this process's reporter;
* :mod:`~mpviz.telemetry.wire` — the wire format: a record as a frame on a
  connection, and back (the one place that knows frame sizes);
* :mod:`~mpviz.telemetry.reporter` — a process's own connection to the
  dashboard's socket: never blocking, a bounded backlog, fork handling.

Every process of a run imports this package: it imports nothing but the
standard library.  Its face is the record's room, what lesson code and
``mpviz.sync`` use.
"""

from mpviz.telemetry.record import (
    MAX_TEXT,
    Event,
    Malformed,
    Reporter,
    emit,
    install_reporter,
    now_ns,
    report,
    short,
    uninstall_reporter,
)

__all__ = [
    "MAX_TEXT",
    "Event",
    "Malformed",
    "Reporter",
    "emit",
    "install_reporter",
    "now_ns",
    "report",
    "short",
    "uninstall_reporter",
]
