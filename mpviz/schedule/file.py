"""A schedule file: what ran, and who went at each decision — written by ``mpviz explore``, replayed by ``--schedule``.

JSONL, like a recording: line 1 is a recording's header (``{"mpviz": 1, …}``:
the lesson and its parameters, or the program and its arguments, the seed,
the start method) with ``"schedule": 1`` and how the schedule was made; then
one decision a line, ``{"go": WHO, "op": OP, "what": WHAT, "at": FILE:LINE, "code": SOURCE}``.
A recording of a scheduled run (``--record``) is a schedule too: its
``turn.go`` records are its decisions.

It is checked as a recording is (:mod:`mpviz.recording.reader`): a regular
file only, the header's parameters as the command line's, every line by its
fields; a schedule must be exact, so any bad line refuses the whole file with
its number (``Malformed``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpviz.recording.reader import MAX_RECORD_LINE, Header, check_event, open_regular, read_header
from mpviz.schedule.choice import Step
from mpviz.shown import visible
from mpviz.telemetry import Malformed

# The most decisions a schedule may hold, and the longest text of one of its fields.
MOST_STEPS = 1_000_000
MOST_TEXT = 1000
STEP_FIELDS = ("go", "op", "what", "at", "code")


@dataclass
class Schedule:
    header: Header
    steps: list[Step] = field(default_factory=list)

    @property
    def seed(self) -> int | None:
        seed = self.header.raw.get("seed")
        return seed if type(seed) is int else None

    @property
    def failure(self) -> tuple[str, str]:
        """How the schedule's run failed, and the kind of failure, as explore wrote them ("" if not said)."""
        failure, kind = self.header.raw.get("failure"), self.header.raw.get("failure_kind")
        # (Shown on a terminal, from a file: made safe, and short.)
        failure = visible(failure[:MOST_TEXT]) if isinstance(failure, str) else ""
        return failure, kind if isinstance(kind, str) else ""

    @property
    def virtual_time(self) -> bool:
        return self.header.raw.get("virtual_time") is True

    @property
    def start_method(self) -> str | None:
        method = self.header.raw.get("start_method")
        return method if method in ("fork", "spawn", "forkserver") else None


def write(path: Path, head: dict[str, Any], steps: list[Step]) -> None:
    """The schedule to ``path`` (OSError if it cannot be written)."""
    lines = [json.dumps({"mpviz": 1, "schedule": 1, **head}, ensure_ascii=False)]
    lines += [
        json.dumps(dict(zip(STEP_FIELDS, (s.who, s.op, s.what, s.at, s.code), strict=True)), ensure_ascii=False)
        for s in steps
    ]
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)


def read(path: Path) -> Schedule:
    """A schedule file, or a recording of a scheduled run, checked; OSError or Malformed with the reason."""
    with open_regular(path) as f:
        header = read_header(f)
        schedule = Schedule(header)
        number = 1
        while raw := f.readline(MAX_RECORD_LINE + 1):
            number += 1
            if len(raw) > MAX_RECORD_LINE:
                raise Malformed(f"line {number}: longer than 64 KiB")
            if not raw.strip():
                continue
            step = _step(raw, number, header)
            if step is not None:
                schedule.steps.append(step)
                if len(schedule.steps) > MOST_STEPS:
                    raise Malformed(f"line {number}: more than {MOST_STEPS} decisions")
    if header.raw.get("schedule") != 1 and not schedule.steps:
        raise Malformed("a recording of a run nobody scheduled: no decisions in it")
    return schedule


def _step(raw: bytes, number: int, header: Header) -> Step | None:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise Malformed(f"line {number}: not JSON") from None
    if isinstance(value, list):  # a recording's record: only its decisions count
        try:
            event = check_event(value, header.facts)
        except Malformed as exc:
            raise Malformed(f"line {number}: {exc}") from None
        return _fields(event.data, ("who", *STEP_FIELDS[1:]), number) if event.kind == "turn.go" else None
    if not isinstance(value, dict) or set(value) != set(STEP_FIELDS):
        raise Malformed(f'line {number}: not a decision ({{"go", "op", "what", "at", "code"}})')
    return _fields(value, STEP_FIELDS, number)


def _fields(data: dict[str, Any], names: tuple[str, ...], number: int) -> Step:
    values = [data.get(name, "") for name in names]
    for name, value in zip(names, values, strict=True):
        if not isinstance(value, str) or len(value) > MOST_TEXT:
            raise Malformed(f"line {number}: {name} is not a short text")
    if not values[0] or not values[1]:
        raise Malformed(f"line {number}: a decision names who goes and what it does")
    return Step(*values)
