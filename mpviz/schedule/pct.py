"""PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010).

Each run, every process (and thread) gets a random priority when it first
appears; at each decision the highest-priority one that may go, goes.  Before
the run, ``depth - 1`` *change points* are drawn among the decisions the runs
so far needed (those with more than one process to choose from); at each, the
process that went last drops below every other.  A bug that needs ``d``
orderings to happen (its *depth*: an oversell needs one buyer to read before
another writes — depth 1 or 2; a deadlock of five philosophers needs five) is
found in one run with probability at least ``1 / (n · k^(d-1))``, for ``n``
processes and ``k`` decisions; PCT's guarantee holds for ``depth >= d``.

Two additions, for programs rather than tests: a process about to sleep
drops below every other (a sleep says "others first", which is how most
programs use it; a change point can still put it back in front), and a
process that has gone ``STARVING`` times in a row while others could have
gone drops too (a loop that polls would otherwise never let anyone else go).
"""

from __future__ import annotations

import random

from mpviz.schedule.choice import Offer

# Decisions a process may win in a row while others wait, before it drops below them.
STARVING = 200
# What a first run is taken to need, before any run has said how many decisions it took.
FIRST_GUESS = 20


class Pct:
    """PCT over many runs of one program: :meth:`start` before each, :meth:`choose` at each decision."""

    def __init__(self, seed: int, depth: int) -> None:
        self.seed = seed
        self.depth = depth
        self.most = 0  # the most decisions (with a choice) a run needed so far
        self._rng = random.Random()
        self._order: list[str] = []  # highest priority first
        self._change: set[int] = set()
        self._made = 0  # decisions with a choice, this run
        self._row = 0  # decisions the same process won in a row while others waited
        self._last = ""

    def start(self, run: int) -> None:
        """A new run: its own random numbers, new priorities, new change points."""
        self._rng = random.Random(f"{self.seed}/{run}")
        self._order = []
        k = max(self.most, FIRST_GUESS)
        self._change = set(self._rng.sample(range(1, k + 1), min(self.depth - 1, k)))
        self._made = self._row = 0
        self._last = ""

    def choose(self, offer: Offer) -> str | None:
        for option in offer.options:
            if option.who not in self._order:
                self._order.insert(self._rng.randint(0, len(self._order)), option.who)
        enabled = offer.enabled
        last = offer.option(offer.last) if offer.last is not None else None
        if last is not None and last.step.op == "proc.sleep":
            self._drop(last.who)
        if len(enabled) > 1:
            self._made += 1
            self.most = max(self.most, self._made)
            if self._made in self._change and offer.last is not None:
                self._drop(offer.last)
            if self._row >= STARVING and offer.last is not None:
                self._drop(offer.last)
        chosen = min(enabled, key=lambda o: self._order.index(o.who)).who
        self._row = self._row + 1 if chosen == self._last and len(enabled) > 1 else 0
        self._last = chosen
        return chosen

    def _drop(self, who: str) -> None:
        """``who`` below every other."""
        if who in self._order:
            self._order.remove(who)
            self._order.append(who)
