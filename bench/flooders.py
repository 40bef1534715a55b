"""What the ingest figures' flooders run (bench/run.py ``ingest``): spawned children import this
module by name, so it holds nothing but them and imports nothing heavy."""

from __future__ import annotations

from mpviz import sync


def lock_flood(n: int) -> None:
    """Take and give back a lock of its own ``n`` times, never waiting: ``2 n`` records, each a
    lock's (``lock.acquired``, ``lock.released``), as a watched program's operations send them:
    fixed-layout (HOT) entries of its ring, not the general (MARSHAL) form a ``report`` takes."""
    lock = sync.Lock()
    for _ in range(n):
        lock.acquire()
        lock.release()
