"""Worker functions for tests: spawned children import this module by name."""

from __future__ import annotations

import sys
import time
from typing import Any

from mpviz import sync
from mpviz.sync import boot
from mpviz.sync.connection import Connection
from mpviz.telemetry import report


def hold(lock: sync.Lock, seconds: float) -> None:
    with lock:
        time.sleep(seconds)


def ticker(n: int, every: float) -> None:
    """Report a numbered tick every ``every`` seconds."""
    for i in range(n):
        report("tick", i=i)
        time.sleep(every)


def flood(n: int) -> None:
    """Report as fast as the channel takes it."""
    for i in range(n):
        report("flood", i=i)


def modules() -> None:
    ui = sorted({m.partition(".")[0] for m in sys.modules} & {"textual", "rich"})
    report("modules", ui=",".join(ui), main=str(getattr(sys.modules.get("__mp_main__"), "__name__", "")))


def put_all(q: sync.Queue, items: list[object]) -> None:
    for item in items:
        q.put(item)


def echo_pipe(end: Connection) -> None:
    end.send(("echo", end.recv()))


def spawn_child(seconds: float) -> None:
    """Start a grandchild (as the chat server does) and wait for it."""
    p = sync.Process(target=time.sleep, args=(seconds,), role="grandchild", label="grandchild")
    p.start()
    p.join()


def write_garbage_then_tick() -> None:
    """Frames of garbage on a connection of its own to the dashboard, then a good record."""
    import marshal
    import socket
    import struct

    endpoint = boot.current.endpoint
    assert endpoint is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(endpoint)
        for payload in (b"not marshal", marshal.dumps(("a", "tuple", "of", "wrong", "shape"))):
            sock.sendall(struct.pack("!I", len(payload)) + payload)
    report("after garbage")


def rewrite_forever(db: str) -> None:
    """Write the ticket file as fast as possible, the way buyers do."""
    from mpviz.lessons.tickets.workers import write_count

    i = 0
    while True:
        write_count(db, i % 1000)
        i += 1


# --- mpviz.sync's primitives across real processes (test_sync_processes.py) ---


def wait_on_condition(cond: Any, ready: Any) -> None:
    with cond:
        ready.release()
        cond.wait(30)


def cross_barrier(barrier: Any) -> None:
    barrier.wait(30)


def add_to_shared(value: Any, array: Any) -> None:
    with value.get_lock():
        value.value += 1
    with array.get_lock():
        array[0] += 1


def put_simple(q: Any, item: object) -> None:
    q.put(item)


def square(x: int) -> int:
    return x * x


def use_managed(shared: Any, lock: Any) -> None:
    with lock:
        shared["child"] = 1


def sleep_forever() -> None:
    while True:
        time.sleep(1)


def take_lock(lock: Any) -> None:
    with lock:
        pass


def start_grandchild(lock: Any) -> None:
    p = sync.Process(target=take_lock, args=(lock,))
    p.start()
    p.join()


def burst_then_killed(lock: sync.Lock, n: int) -> None:
    """``n`` acquires and releases and ``n`` words, then killed at once (SIGKILL, by itself)."""
    import os
    import signal

    for i in range(n):
        with lock:
            pass
        report("burst", i=i)
    os.kill(os.getpid(), signal.SIGKILL)


def burst_then_blocked(lock: sync.Lock, n: int) -> None:
    """``n`` words, then a wait for a lock held by another process, for as long as it is held."""
    for i in range(n):
        report("burst", i=i)
    with lock:
        pass
