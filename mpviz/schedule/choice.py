"""One choice of a scheduled run: who is waiting at a point, who may go, and who went.

At every decision the scheduler offers the processes (and threads) waiting at
a scheduling point, each by a name that is the same from run to run (its
label: ``buy_ticket #1``, ``main``, ``worker #0: Thread-2``), with what it is
about to do and where, and whether it may go (an operation that would block
may not).  A :class:`Chooser` picks one: PCT (``pct.py``), a schedule being
replayed (``replay.py``), or nobody (a person, in step mode).  What was
chosen, in order, is the run's schedule: a list of :class:`Step`.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Step:
    """Who went, and what it was about to do: ``op`` (``lock.acquire``) on ``what`` (a primitive's
    name, a process's label) at ``at`` (``ticket.py:22``), whose source is ``code``."""

    who: str
    op: str
    what: str = ""
    at: str = ""
    code: str = ""


@dataclass(frozen=True)
class Option:
    step: Step  # who would go, and what it would do
    enabled: bool  # False: its operation would block

    @property
    def who(self) -> str:
        return self.step.who


@dataclass(frozen=True)
class Offer:
    """The processes waiting at a point, in the order they first came; who went last; how many went."""

    options: tuple[Option, ...]
    last: str | None
    made: int

    @property
    def enabled(self) -> list[Option]:
        return [o for o in self.options if o.enabled]

    def option(self, who: str) -> Option | None:
        return next((o for o in self.options if o.who == who), None)


class Chooser(Protocol):
    def choose(self, offer: Offer) -> str | None:
        """Who goes (one of the offer's enabled options); None: nobody yet (a person will say)."""
        ...


def keep_going(offer: Offer) -> str:
    """The plain choice: whoever went last, if it may go on; else the first that may."""
    enabled = offer.enabled
    last = offer.option(offer.last) if offer.last is not None else None
    return last.who if last is not None and last.enabled else enabled[0].who


class Nobody:
    """Step mode: nobody chooses here; the person at the dashboard does."""

    def choose(self, offer: Offer) -> str | None:
        return None


def switches(steps: list[Step]) -> int:
    """How often the process that went changed: what a shorter schedule has fewer of."""
    return sum(1 for a, b in itertools.pairwise(steps) if a.who != b.who)


def signature(steps: list[Step]) -> str:
    """One interleaving, as a short digest: runs with the same one have the same."""
    digest = hashlib.blake2b(digest_size=8)
    for step in steps:
        digest.update(f"{step.who}\0{step.op}\0{step.what}\n".encode())
    return digest.hexdigest()
