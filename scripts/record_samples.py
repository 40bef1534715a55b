"""Record the real runs that the snapshot tests and the screenshots replay.

    .venv/bin/python scripts/record_samples.py [NAME ...]

Each recording is a real run of a lesson (real processes), some with a scripted
act in the middle (killing the lock holder).  After re-recording, look at the
pictures again and adjust the moments in tests/gallery.py.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from mpviz.model import Model
from mpviz.runtime import Supervisor, prepare
from mpviz.scenarios import LESSONS
from mpviz.telemetry import Recorder, now_ns, recording_header

OUT = Path(__file__).resolve().parent.parent / "tests" / "recordings"

# An act: given the model and the supervisor, do something once; True when done.
Act = Callable[[Model, Supervisor], bool]


def kill_lock_holder(lock: str, waiting: int) -> Act:
    def act(model: Model, sup: Supervisor) -> bool:
        prim = model.prim(lock)
        if prim and prim.holders and len(prim.waiters) >= waiting:
            sup.signal(next(iter(prim.holders)), signal.SIGKILL)
            return True
        return False

    return act


def record(
    name: str,
    lesson: str,
    params: dict,
    seed: int,
    act: Act | None = None,
    after_done: float = 0.0,
    limit: float = 60.0,
) -> None:
    values = LESSONS[lesson].prepare(params)
    recorder = Recorder(OUT / f"{name}.jsonl", recording_header(lesson, values, 1.0, seed, "spawn"))
    sup = Supervisor("spawn", 1.0, seed)
    model = Model()
    run = LESSONS[lesson](sup, seed=seed, **values)
    sup.run(run)
    ends = time.monotonic() + limit
    done_at = None
    try:
        while time.monotonic() < ends:
            events = sup.read(0.1)
            recorder.write(events)
            model.apply(events)
            if act is not None and act(model, sup):
                act = None
            if done_at is None and (
                run.finished(model, now_ns()) or (act is None and after_done and model.anomalies(now_ns()))
            ):
                done_at = time.monotonic()
            if done_at is not None and time.monotonic() >= done_at + after_done:
                break
        last = sup.drain()
        recorder.write(last)
        model.apply(last)
    finally:
        recorder.write(sup.stop())
        sup.close()
        recorder.close()
    print(f"tests/recordings/{name}.jsonl  {run.verdict(model, now_ns()).text}")


SAMPLES: dict[str, Callable[[], None]] = {
    "ktv": lambda: record("ktv", "ktv", {"groups": 7}, seed=3),
    "traffic": lambda: record("traffic", "traffic", {"cars": 6, "light": 3.0}, seed=1),
    "prodcons": lambda: record("prodcons", "prodcons", {"producers": 2, "consumers": 3, "items": 5}, seed=2),
    "prodcons-naive": lambda: record("prodcons-naive", "prodcons", {"items": 4, "naive": True}, seed=2),
    "tickets": lambda: record("tickets", "tickets", {"buyers": 5}, seed=3),
    "tickets-oversold": lambda: record(
        "tickets-oversold", "tickets", {"buyers": 5, "no_lock": True, "read_delay": 1.0}, seed=3
    ),
    "tickets-deadlock": lambda: record(
        "tickets-deadlock",
        "tickets",
        {"buyers": 4, "read_delay": 2.0},
        seed=3,
        act=kill_lock_holder("ticket", waiting=3),
        after_done=3.0,
        limit=12.0,
    ),
    "printlock": lambda: record("printlock", "printlock", {}, seed=4),
    "chat": lambda: record("chat", "chat", {"clients": 3, "messages": 3, "every": 1.0}, seed=5),
    "pingpong": lambda: record("pingpong", "pingpong", {"rounds": 2}, seed=6),
    "pingpong-race": lambda: record("pingpong-race", "pingpong", {"rounds": 2, "no_sleep": True}, seed=6),
}


def main() -> None:
    prepare("spawn")
    for name in sys.argv[1:] or SAMPLES:
        SAMPLES[name]()


if __name__ == "__main__":
    main()
