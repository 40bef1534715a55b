"""A schedule replayed: the same process goes at every decision as in the run it was made of.

Strict (``mpviz run … --schedule FILE``): the process the schedule names at a
decision must be waiting, allowed to go, about to do what the schedule says at
the line it says; the first decision where it is not is where the schedule
stopped fitting the program (it changed), said in :attr:`Replay.diverged`.
From there on, and once the schedule is used up, the plain choice goes
(:func:`~mpviz.schedule.choice.keep_going`).  Loose (shrinking a schedule):
only who goes is followed, where it can go.

A schedule written by ``mpviz explore`` keeps how its run failed (its
header's ``failure``, and ``failure_kind``); a replay that does not fail says
so beside its verdict (:func:`not_again`): then the failure does not depend on
the order alone, and the replay cannot promise it.
"""

from __future__ import annotations

from mpviz.lang import T
from mpviz.model.words import doing
from mpviz.schedule.choice import Offer, Step, keep_going

# Beside the verdict of a replay that did not fail as the schedule's run did.
NOT_AGAIN = T(
    "the schedule's run failed: {failure}; this replay did not: the failure does not depend on the order alone "
    "(randomness, time, the outside world)",
    "调度所记录的那次运行失败了:{failure};这次重放没有:失败并不只取决于顺序(随机数、时间、外部世界)",
)
# A failure of printed lines (--at-most) that nobody judged here (the dashboard does not).
PRINTED = "printed"


class Replay:
    def __init__(self, steps: list[Step], strict: bool = True, failure: str = "", kind: str = "") -> None:
        """``failure`` and ``kind``: how the schedule's own run failed (its header's), "" if it says not."""
        self.steps = steps
        self.strict = strict
        self.failure = failure
        self.kind = kind
        self.diverged = ""  # where the schedule stopped fitting, in words ("" while it fits)
        self._next = 0

    def choose(self, offer: Offer) -> str | None:
        if self._next >= len(self.steps):
            return keep_going(offer)
        want = self.steps[self._next]
        self._next += 1
        option = offer.option(want.who)
        if option is not None and option.enabled and (not self.strict or _same(option.step, want)):
            return want.who
        if self.strict and not self.diverged:
            self.diverged = _divergence(self._next, want, option.step if option is not None else None)
        return keep_going(offer)

    @property
    def used_up(self) -> bool:
        return self._next >= len(self.steps)


def not_again(replay: Replay, failed: bool, printed_judged: bool) -> str:
    """What a replay's verdict must add ("" if nothing): that the schedule's run failed and this one
    did not.  ``failed``: this run failed (its verdict, an exception, an exit code, printed lines);
    ``printed_judged``: its printed lines were checked (headless, with --at-most)."""
    if not replay.failure or failed or (replay.kind == PRINTED and not printed_judged):
        return ""
    return NOT_AGAIN(failure=replay.failure)


def _same(a: Step, b: Step) -> bool:
    """The same operation: the same kind, on the same thing, from the same line of the same file —
    a line known by its source, not its number (lines added elsewhere move it)."""
    return a.op == b.op and a.what == b.what and a.code == b.code and a.at.partition(":")[0] == b.at.partition(":")[0]


def _doing(step: Step) -> str:
    """What a step's process is about to do, in words: ``acquire lock 'ticket' at ticket.py:18``."""
    return doing(step.op, step.what, step.at)


def _divergence(n: int, want: Step, found: Step | None) -> str:
    said = f"step {n}: the schedule says {want.who} goes, about to {_doing(want)}"
    if found is None:
        return f"{said}, but {want.who} is not waiting at a point"
    if (found.op, found.what, found.at) == (want.op, want.what, want.at) and found.code != want.code:
        return f"{said}, but that line is now {found.code}"
    if not _same(found, want):
        return f"{said}, but it is about to {_doing(found)}"
    return f"{said}, but that would block now"
