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
at each step never floods.  A queue's end signal (``None`` put or got) is
always said.
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
    """One actor's streak: how long it is, and the records counted, not said: how many of each kind,
    of each primitive (by id), the first and the last."""

    __slots__ = ("counts", "first", "last", "n", "streak")

    def __init__(self) -> None:
        self.streak = 0
        self.counts: dict[str, dict[str, int]] = {}  # primitive → kind → how many
        self.n = 0
        self.first: Event | None = None
        self.last: Event | None = None

    def said(self, model: Model, now_ns: int) -> str:
        """What was counted, as one line stamped ``now_ns`` (the line it comes before: the log stays in
        time order); the counts start again."""
        first, last = self.first, self.last
        assert first is not None and last is not None
        t0 = first.t_ns if model.t0 is None else model.t0
        parts = []
        for obj, kinds in self.counts.items():
            prim = model.prims.get(obj)
            name = prim.name if prim is not None else obj
            for kind, n in kinds.items():
                family, _, op = kind.partition(".")
                if op in WORDS:  # acquired, released: of a lock, an rlock or a semaphore
                    words = WORDS[op](word=prim.word if prim is not None else family, obj=name)
                else:
                    words = WORDS[kind](obj=name)
                parts.append(TIMES(words=words, n=n))
        span = seconds(first.t_ns - t0).strip(), seconds(last.t_ns - t0).strip()
        text = COUNTED(n=self.n, first=span[0], last=span[1], what=", ".join(parts))
        self.counts, self.n, self.first, self.last = {}, 0, None, None
        return said(now_ns - t0, last.pid, model.who(last), text)


class Floods:
    """Which records of a headless run are counted instead of said, and the lines that say the counts."""

    def __init__(self) -> None:
        # By actor: its pid, or (pid, thread) for a record that names its thread.
        self._tallies: dict[object, Tally] = {}

    def take(self, model: Model, events: Iterable[Event], colours: bool = False) -> list[str]:
        """Apply each record to ``model``, in the order given; the lines they make (``colours``: a
        printed line keeps its colour codes)."""
        # (Every record of a flood passes here: its count written out, no call but the model's.)
        lines: list[str] = []
        tallies, apply_one, line = self._tallies, model.apply_one, model.line
        for event in events:
            apply_one(event)
            kind = event.kind
            if kind in FLOODING:
                data = event.data
                actor: object = event.pid if "th" not in data else (event.pid, data["th"])
                tally = tallies.get(actor)
                if tally is None:
                    tally = tallies[actor] = Tally()
                tally.streak += 1
                if data.get("none"):  # a queue's end signal: always said, after the counts before it
                    if tally.n:
                        lines.append(tally.said(model, event.t_ns))
                elif tally.streak > SHOWN:  # counted, its line never made
                    kinds = tally.counts.get(event.obj)
                    if kinds is None:
                        kinds = tally.counts[event.obj] = {}
                    kinds[kind] = kinds.get(kind, 0) + 1
                    if tally.first is None:
                        tally.first = event
                    tally.last = event
                    tally.n += 1
                    if tally.n >= SAID_EVERY:
                        lines.append(tally.said(model, event.t_ns))
                    continue
            text = line(event, colours=colours)
            if text is None:
                continue
            if tallies and kind not in FLOODING:
                # A line of another kind: what its actor counted is said first; it ends the streak, unless a wait.
                data = event.data
                actor = event.pid if "th" not in data else (event.pid, data["th"])
                tally = tallies.get(actor)
                if tally is not None:
                    if tally.n:
                        lines.append(tally.said(model, event.t_ns))
                    if kind not in WAITS:
                        del tallies[actor]
            lines.append(text)
        return lines

    def rest(self, model: Model) -> list[str]:
        """The lines of everything still counted, at the end of the run."""
        lines = [tally.said(model, model.last_ns) for tally in self._tallies.values() if tally.n]
        self._tallies.clear()
        return lines
