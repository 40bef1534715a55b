"""Record the real runs that the snapshot tests and the screenshots replay.

    .venv/bin/python scripts/record_samples.py [NAME ...]

Each lesson lists its samples (``Lesson.samples``): a real run of the lesson
(real processes), some with a scripted act in the middle (killing the lock
holder).  After re-recording, look at the pictures again and adjust the
moments (the samples' shots).
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from mpviz.lessons import lessons
from mpviz.lessons.base import Lesson, Sample
from mpviz.runtime import LessonRun, Settings, prepare

OUT = Path(__file__).resolve().parent.parent / "tests" / "recordings"


def kill_holder(run: LessonRun, lock: str, waiting: int) -> bool:
    """Kill the lock's holder once ``waiting`` processes wait for it; True once done."""
    prim = run.model.prim(lock)
    if prim.holders and len(prim.waiters) >= waiting:
        run.send_signal(next(iter(prim.holders)), signal.SIGKILL)
        return True
    return False


def record(cls: type[Lesson], sample: Sample) -> None:
    run = LessonRun(Settings(cls.name, dict(sample.params), seed=sample.seed, record=OUT / f"{sample.name}.jsonl"))
    act = sample.kill_holder
    run.begin()
    ends = time.monotonic() + sample.limit
    done_at = None
    try:
        while time.monotonic() < ends:
            run.model.apply(run.read(0.1))
            if act is not None and kill_holder(run, *act):
                act = None
            gone_wrong = act is None and sample.after_done and run.model.anomalies(time.monotonic_ns())
            if done_at is None and (run.finished() or gone_wrong):
                done_at = time.monotonic()
            if done_at is not None and time.monotonic() >= done_at + sample.after_done:
                break
        run.model.apply(run.drain())
        verdict = run.verdict()
    finally:
        run.close()
    print(f"tests/recordings/{sample.name}.jsonl  {verdict.text}")


def main() -> None:
    prepare("spawn")
    wanted = set(sys.argv[1:])
    for cls in lessons():
        for sample in cls.samples:
            if not wanted or sample.name in wanted:
                record(cls, sample)


if __name__ == "__main__":
    main()
