"""A flood of one actor's frequent operations, said in bulk in the headless log.

A program that takes a lock, puts and gets a few hundred thousand times would
print a line for each, hundreds of thousands of lines nobody reads, and the
making of them cost the dashboard's process about as much as applying the
records (a flood's lines were 40 % of its CPU).  So an actor's (a process's, or
a thread's) first ``SHOWN`` lines of a streak of these operations are printed
one by one, as always; after them, each is counted, not said, and the counts
are said in one line: before the actor's next line of another kind, every
``SAID_EVERY`` records counted, and at the end of the run.  Every record is
still applied to the model: the figures at the end count them all.

A streak is broken by any other line of the actor (it printed, started a
child, ended …) — not by a wait, which a contended lock's flood is full of:
the wait is said, the counts before it first.  A program that prints a line
at each step never floods.
"""

from __future__ import annotations

from collections.abc import Iterable

from mpviz.lang import T
from mpviz.model.lines import WAITS, said, seconds
from mpviz.model.state import Model
from mpviz.telemetry import Event

# The frequent operations that never wait: a flood of them is counted.
FLOODING = frozenset(
    [f"{family}.{op}" for family in ("lock", "rlock", "sem") for op in ("acquired", "released")]
    + ["queue.put", "queue.get", "pipe.send", "pipe.recv"]
)
# An actor's lines said one by one in a streak, before the rest is counted.
SHOWN = 100
# A flood said at least every so many records counted, so that a long one is seen going on.
SAID_EVERY = 10_000

WORDS = {
    "acquired": T("acquired {word} '{obj}'", "获得了{word} '{obj}'"),
    "released": T("released {word} '{obj}'", "释放了{word} '{obj}'"),
    "queue.put": T("put into queue '{obj}'", "放入队列 '{obj}'"),
    "queue.get": T("got from queue '{obj}'", "从队列 '{obj}' 取出"),
    "pipe.send": T("sent through pipe '{obj}'", "通过管道 '{obj}' 发送"),
    "pipe.recv": T("received from pipe '{obj}'", "从管道 '{obj}' 收到"),
}
COUNTED = T("… {n} more, from {first} to {last} s: {what}", "… 又有 {n} 条,从 {first} 到 {last} 秒:{what}")
TIMES = T("{words} ×{n}", "{words} ×{n}")


class Tally:
    """One actor's records counted, not said: how many of each (kind, primitive), from when to when."""

    __slots__ = ("counts", "first_ns", "last_ns", "n", "sample")

    def __init__(self, event: Event) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.first_ns = event.t_ns
        self.last_ns = event.t_ns
        self.n = 0
        self.sample = event  # (a record of the actor: who it is, when its line is made)


class Floods:
    """Which records of a headless run are counted instead of said, and the lines that say the counts."""

    def __init__(self) -> None:
        self._streaks: dict[tuple[int, object], int] = {}  # by actor: (pid, thread)
        self._tallies: dict[tuple[int, object], Tally] = {}

    def take(self, model: Model, events: Iterable[Event], colours: bool = False) -> list[str]:
        """Apply each record to ``model``, in the order given; the lines they make (``colours``: a
        printed line keeps its colour codes)."""
        lines = []
        counts, apply_one, line = self.counts, model.apply_one, model.line
        for event in events:
            apply_one(event)
            if counts(event):  # (a flood's record past its first lines: counted, its line never made)
                if self.full(event):
                    lines.append(self.said(model, event))
                continue
            text = line(event, colours=colours)
            if text is not None:
                if event.kind not in FLOODING:
                    counted = self.before(model, event)
                    if counted is not None:
                        lines.append(counted)
                lines.append(text)
        return lines

    def counts(self, event: Event) -> bool:
        """Whether ``event`` is counted, not said (its actor's streak of flooding lines is past ``SHOWN``)."""
        kind = event.kind
        if kind not in FLOODING:
            return False
        actor = (event.pid, event.data.get("th"))
        n = self._streaks.get(actor, 0) + 1
        self._streaks[actor] = n
        if n <= SHOWN:
            return False
        tally = self._tallies.get(actor)
        if tally is None:
            tally = self._tallies[actor] = Tally(event)
        key = (kind, event.obj)
        counts = tally.counts
        counts[key] = counts.get(key, 0) + 1
        tally.last_ns = event.t_ns
        tally.n += 1
        return True

    def full(self, event: Event) -> bool:
        """Whether the actor of ``event``, just counted, has counted ``SAID_EVERY``: time to say so."""
        tally = self._tallies.get((event.pid, event.data.get("th")))
        return tally is not None and tally.n >= SAID_EVERY

    def before(self, model: Model, event: Event) -> str | None:
        """The line of what ``event``'s actor had counted, said before ``event``'s own line (None: nothing
        counted).  A line other than a wait ends the actor's streak."""
        actor = (event.pid, event.data.get("th"))
        if event.kind not in WAITS and event.kind not in FLOODING:
            self._streaks.pop(actor, None)
        tally = self._tallies.pop(actor, None)
        return None if tally is None else _said(model, tally, event.t_ns)

    def said(self, model: Model, event: Event) -> str:
        """The line of what ``event``'s actor counted, ``event`` the last (its streak goes on)."""
        return _said(model, self._tallies.pop((event.pid, event.data.get("th"))), event.t_ns)

    def rest(self, model: Model) -> list[str]:
        """The lines of everything still counted, at the end of the run."""
        lines = [_said(model, tally, model.last_ns) for tally in self._tallies.values()]
        self._tallies.clear()
        return lines


def _said(model: Model, tally: Tally, now_ns: int) -> str:
    """A tally as one line, stamped ``now_ns`` (the line it comes before: the log stays in time order)."""
    t0 = tally.first_ns if model.t0 is None else model.t0
    parts = []
    for (kind, obj), n in tally.counts.items():
        prim = model.prims.get(obj)
        name = prim.name if prim is not None else obj
        family, _, op = kind.partition(".")
        if op in WORDS:  # acquired, released: of a lock, an rlock or a semaphore
            words = WORDS[op](word=prim.word if prim is not None else family, obj=name)
        else:
            words = WORDS[kind](obj=name)
        parts.append(TIMES(words=words, n=n))
    first, last = seconds(tally.first_ns - t0).strip(), seconds(tally.last_ns - t0).strip()
    text = COUNTED(n=tally.n, first=first, last=last, what=", ".join(parts))
    sample = tally.sample
    return said(now_ns - t0, sample.pid, model.who(sample), text)
