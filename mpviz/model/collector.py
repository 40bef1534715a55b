"""Python's cyclic garbage collector paused while a batch of records is read or applied.

A record is a tuple that holds a dict: the collector tracks every one, and a
batch of them alive at once (a flood's, up to a ring's worth: hundreds of
thousands when a process's ring is read to its end) was scanned again and
again as it grew, each full collection walking every record made so far
(0.6–0.9 µs a record in ``bench/run.py --only ingest``).  Records make no
cycles: a batch is freed by reference counts once applied, and the
collector, paused meanwhile, finds nothing of it left to scan.

Paused by any thread (the channels' reader and the model's owner), for as long
as one of them is inside: a count, not a flag, so that one thread's end does
not restart it under the other.  Never restarted if it was off before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_inside = 0
_was_on = False


@contextmanager
def paused() -> Iterator[None]:
    global _inside, _was_on
    with _lock:
        if not _inside:
            _was_on = gc.isenabled()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if not _inside and _was_on:
                gc.enable()
