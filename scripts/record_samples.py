"""Record the real runs that the snapshot tests and the screenshots replay.

    .venv/bin/python scripts/record_samples.py [NAME ...]

Each lesson lists its samples (``Lesson.samples``): a real run of the lesson
(real processes), some with a scripted act in the middle (killing the lock
holder).  After re-recording, look at the pictures again and adjust the
moments (the samples' shots).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from mpviz.lesson import Lesson, Sample
from mpviz.model import Model, find_anomalies
from mpviz.model.anomalies import WARNINGS
from mpviz.program import Attached, Program, Watched
from mpviz.registry import lesson_class, lessons
from mpviz.runtime import Run, Settings, prepare
from mpviz.runtime.scheduler import Turns
from mpviz.schedule.choice import Offer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "recordings"
# Programs run unmodified (from a scratch copy of their folder: some write files): the
# tutorial's own, and programs nobody here wrote (tests/external/).
SEED = ROOT / "tests" / "tutorial"
PYMOTW = ROOT / "tests" / "external" / "pymotw3"
PROGRAMS = {
    "ktv-program": SEED / "ktv.py",
    "unfed-consumer": ROOT / "tests" / "programs" / "unfed_consumer.py",
    "pymotw-prodcons": PYMOTW / "multiprocessing_producer_consumer.py",
    "pymotw-pool": PYMOTW / "multiprocessing_pool.py",
}
# Step mode: a lesson's first decisions made as a person would, by name; then left waiting for one.
STEPPED = {
    # Both buyers read the count before either writes it: one ticket is about to be sold twice.
    "tickets-step": ("tickets", {"no_lock": True}, 3, ("main",) * 5 + ("buyer 0", "buyer 1")),
}


class Scripted:
    """Chooses who goes by name, in order; then nobody (the run waits for a person: the picture)."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = list(choices)

    def choose(self, offer: Offer) -> str | None:
        return self.choices.pop(0) if self.choices else None


def record_stepped(name: str, lesson: str, params: dict, seed: int, choices: tuple[str, ...]) -> None:
    settings = Settings(lesson_class(lesson), params, seed=seed, record=OUT / f"{name}.jsonl")
    run = Run(replace(settings, turns=Turns(Scripted(choices), seed=seed)), keys=True)
    model = Model()
    run.begin()
    ends = time.monotonic() + 60
    try:
        while time.monotonic() < ends and not (model.turns.made == len(choices) and model.turns.offer):
            model.apply(run.read(0.1))
        waiting = time.monotonic() + 1.5  # a psutil sample of every process, waiting at its point
        while time.monotonic() < waiting:
            model.apply(run.read(0.1))
        model.apply(run.drain())
    finally:
        run.close()
    print(f"tests/recordings/{name}.jsonl  {model.turns.made} decisions, waiting for the next")


# Programs of our own, started here and attached to for a while: name → (program, seconds).
ATTACHED = {"attach": ("service.py", 24.0)}


def kill_holder(run: Run, model: Model, lock: str, waiting: int) -> bool:
    """Kill the lock's holder once ``waiting`` processes wait for it; True once done."""
    prim = model.prim(lock)
    if prim.holders and len(prim.waiters) >= waiting:
        run.send_signal(next(iter(prim.holders)), signal.SIGKILL)
        return True
    return False


def record(cls: type[Lesson], sample: Sample) -> None:
    # keys: the pictures are the dashboard's, where a lesson's keys can be pressed (main says it waits for them).
    run = Run(Settings(cls, dict(sample.params), seed=sample.seed, record=OUT / f"{sample.name}.jsonl"), keys=True)
    model = Model()
    act = sample.kill_holder
    run.begin()
    ends = time.monotonic() + sample.limit
    done_at = None
    try:
        while time.monotonic() < ends:
            model.apply(run.read(0.1))
            if act is not None and kill_holder(run, model, *act):
                act = None
            gone_wrong = act is None and sample.after_done and find_anomalies(model, time.monotonic_ns())
            if done_at is None and (run.finished(model) or gone_wrong):
                done_at = time.monotonic()
            if done_at is not None and time.monotonic() >= done_at + sample.after_done:
                break
        model.apply(run.drain())
        verdict = run.verdict(model)
    finally:
        run.close()
    print(f"tests/recordings/{sample.name}.jsonl  {verdict.text}")


def record_program(name: str, program: Path) -> None:
    """A program, watched from a scratch copy of its folder until it ends by itself, or until it
    hangs: then every live process's stacks are asked for and recorded too (the ``d`` key's pictures)."""
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(program.parent, scratch, dirs_exist_ok=True)
        os.chdir(scratch)
        run = Run(Settings(Watched, {"program": Program(program.name)}, record=OUT / f"{name}.jsonl"))
        model = Model()
        run.begin()
        try:
            while not run.finished(model):
                model.apply(run.read(0.1))
                if any(a.kind not in WARNINGS for a in find_anomalies(model, time.monotonic_ns())):
                    stacks_of_everyone(run, model)
                    break
            model.apply(run.drain())
            verdict = run.verdict(model)
        finally:
            run.close()
            os.chdir(ROOT)
    print(f"tests/recordings/{name}.jsonl  {verdict.text}")


def record_attached(name: str, program: str, seconds: float) -> None:
    """A program of ours, started in a session of its own, attached to for ``seconds``, then ended."""
    path = ROOT / "tests" / "programs" / program
    started = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert started.stdout is not None and started.stdout.readline() == b"ready\n"
        time.sleep(1.0)  # its processes all started
        params = {"pid": started.pid, "name": program, "argv": ["python", program]}
        run = Run(Settings(Attached, params, record=OUT / f"{name}.jsonl"))
        run.begin()
        ends = time.monotonic() + seconds
        try:
            while time.monotonic() < ends:
                run.read(0.1)
            run.drain()
        finally:
            run.close()
    finally:
        os.killpg(started.pid, signal.SIGKILL)
        started.wait()
    print(f"tests/recordings/{name}.jsonl  attached to {program} for {seconds:.0f} s")


def stacks_of_everyone(run: Run, model: Model) -> None:
    asked = time.monotonic_ns()
    pids = [p.pid for p in model.procs.values() if p.alive]
    for pid in pids:
        run.ask_stacks(pid)
    while time.monotonic_ns() < asked + 5_000_000_000 and any(model.procs[pid].stacks_ns < asked for pid in pids):
        model.apply(run.read(0.1))


def main() -> None:
    prepare("spawn")
    wanted = set(sys.argv[1:])
    for cls in lessons():
        for sample in cls.samples:
            if not wanted or sample.name in wanted:
                record(cls, sample)
    for name, program in PROGRAMS.items():
        if (not wanted or name in wanted) and program.exists():
            record_program(name, program)
    for name, (lesson, params, seed, choices) in STEPPED.items():
        if not wanted or name in wanted:
            record_stepped(name, lesson, params, seed, choices)
    for name, (program, seconds) in ATTACHED.items():
        if not wanted or name in wanted:
            record_attached(name, program, seconds)


if __name__ == "__main__":
    main()
