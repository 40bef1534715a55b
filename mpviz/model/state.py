"""The model that holds what a run's records say: its processes and threads (``actors.py``), its
primitives (``prims.py``), the logs, the counts, the lock order's takings and the anomalies found.

No I/O, no clock of its own, no Textual: feed a :class:`Model` records with
:meth:`Model.apply` and read processes, primitives, counts and facts.  The
time "now", where an answer depends on it, is always an argument.

What a record does to the model is its kind's handler, in the table
:data:`HANDLERS` that this module owns and knows nothing else of: the handler
modules (``procs.py``, ``locks.py``, ``queues.py``, ``events.py``,
``pools.py``, with the steps they share in ``reducer.py``) fill it with
:func:`handles` as ``mpviz.model`` imports them (and :data:`REPEATS`, for a
kind whose records a flood sends again and again: how they are applied
together).  They import this module and it imports none of them, so the
model's modules make no import circle.  The
readers that need more than the state (``find_anomalies``, the contention
figures of ``stats.py``, the wait-for graph) are functions of a model in
modules of their own, for the same reason.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from mpviz.model.actors import Actor, Proc, Site
from mpviz.model.collector import paused
from mpviz.model.lines import describe, line
from mpviz.model.prims import Prim
from mpviz.model.stacks import ThreadStack
from mpviz.model.words import refusal
from mpviz.shown import needs_showing, none_need_showing, shown, visible
from mpviz.telemetry import Event


class Taking(NamedTuple):
    """One taker's first taking of ``second`` while it held ``first``."""

    actor: int
    first_at: str  # site ids
    second_at: str
    gates: frozenset[str]  # everything else it held then
    # It waited for ``second`` with a timeout (known only of a wait: a lock taken at once does not
    # say its timeout): such a wait gives up, and a cycle through it cannot last.
    timed: bool = False


class Potential(NamedTuple):
    """A cycle in the lock order: its locks in order, and the taking of each edge."""

    locks: tuple[str, ...]  # prim ids, each taken after the one before (and the first after the last)
    takings: tuple[Taking, ...]


class Anomaly(NamedTuple):
    """Something the lesson should make the user see: a deadlock, a hang."""

    kind: str  # deadlock, dead-holder, orphan, paused-holder, starved, lost, hang, order, doubt …
    text: str
    pids: tuple[int, ...] = ()
    # A pitfall that may turn out not to be one (a pool's task that has not come back yet may be
    # slow, not stuck): told while it is found, not remembered once it is not.
    passing: bool = False


# Records that come every second and say nothing a log line would: kept out of the logs.
UNLOGGED = frozenset({"proc.stats", "proc.stack", "proc.stacks"})
LOG_LENGTH = 2000
OUTPUT_LENGTH = 2000
# The most primitives a run shows: more are counted (``refused["primitives"]``), their records
# dropped.  A primitive costs the model a few KiB; a program that makes a hundred thousand
# (or a forged stream of ``prim.new``) must not take the dashboard's memory.
MAX_PRIMITIVES = 20_000
# The families of records that are about a primitive (their ``obj`` is its id).
PRIM_FAMILIES = frozenset({"prim", "lock", "rlock", "sem", "cond", "event", "barrier", "queue", "pipe", "pool"})
TURNS_SHOWN = 12


@dataclass
class Turns:
    """A scheduled run's decisions (``turn.*`` records): what is offered now — each option ``[who,
    op, what, at, may go]`` — while a person chooses, how many went, the last ones, who runs free,
    and whether nobody could go on."""

    offer: list[list[Any]] | None = None
    made: int = 0
    recent: deque[Event] = field(default_factory=lambda: deque(maxlen=TURNS_SHOWN))
    free: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)


class Model:
    """A run's state, from its records: processes, primitives, counts, what was printed."""

    def __init__(self) -> None:
        self.procs: dict[int, Proc] = {}
        # By id (what the records carry); ``_named`` finds them by display name.
        self.prims: dict[str, Prim] = {}
        self._named: dict[str, str] = {}
        # The last number given to a name made unique ("lock#7"): the next one starts there.
        self._numbered: dict[str, int] = {}
        # Where operations were made (``site.new``), by id; which process each thread belongs to.
        self.sites: dict[str, Site] = {}
        self._wheres: dict[str, str] = {}  # each site in words, made once
        # What an actor holds, in words, by (language, the primitives' ids): see reducer._holding.
        self.holding_words: dict[tuple[object, ...], str] = {}
        self._checked: Event | None = None  # the last record applied, if it needed nothing made visible
        # A handler sets ``said_again`` for a record that told the model nothing new (a process's end
        # told by its parent after itself): such records of the last batch applied make no line.
        self.said_again = False
        # (By id, each kept with its record: an id alone could be a later record's once it is freed.)
        self._again: dict[int, Event] = {}
        self.thread_pid: dict[int, int] = {}
        self.thread_names: dict[int, str] = {}  # kept when a thread ends: its records still name it
        # The lock order (first, second) → taker → its taking, and the cycles in it (lock ids → cycle).
        self.order: dict[tuple[str, str], dict[int, Taking]] = {}
        self.potentials: dict[frozenset[str], Potential] = {}
        # Pitfalls said (by their key, once), and who ends which child with which signal, where.
        self.pitfalls: dict[tuple[object, ...], Anomaly] = {}
        self.endings: dict[int, tuple[int, str, str]] = {}
        # Stacks of a request being answered, by (pid, request): one record per thread.
        self.stacks_coming: dict[tuple[int, int], list[ThreadStack]] = {}
        self.counts: Counter[str] = Counter()
        # Facts main observed about the lesson's world (what a file holds), by name.
        self.values: dict[str, dict] = {}
        self.log: deque[Event] = deque(maxlen=LOG_LENGTH)
        # What the processes printed, newest last (for display: bounded).  A line
        # still being written (a partial ``proc.output``) is replaced as it grows,
        # where it stands; ``unended`` holds it, by process and stream.
        self.output: deque[Event] = deque(maxlen=OUTPUT_LENGTH)
        self.unended: dict[tuple[int, str], Event] = {}
        # Counts every change to ``output``: the printed pane redraws when it moves.
        self.output_changes = 0
        # Records a process could not send in time and dropped (``proc.lost``), over the run.
        self.lost = 0
        self.lost_by: dict[int, int] = {}
        # What the run refused, by what (``run.refused``: connections, forged records …; and the
        # primitives past ``MAX_PRIMITIVES``, counted here), over the run.
        self.refused: Counter[str] = Counter()
        self.t0: int | None = None
        self.last_ns: int = 0
        self.applied = 0
        # Changes since the views last looked: they redraw only what moved.
        self.dirty_procs: set[int] = set()
        self.dirty_prims: set[str] = set()
        # Counts every new entry in any process's history: the timeline redraws when it moves.
        self.history_changes = 0
        # A scheduled run's decisions (mpviz/model/turns.py).
        self.turns = Turns()

    # --- entry points ----------------------------------------------------

    def apply(self, events: Iterable[Event]) -> None:
        """Apply a batch of records, in time order."""
        self._again.clear()
        apply_one = self.apply_one
        with paused():  # (a batch of records, alive at once: see collector.py)
            # Each run of records of a kind that ``REPEATS`` knows, one after another (a flood of
            # reports, of one process or several): applied together (as one by one: see ``_repeat``).
            # (A loop of our own, not itertools.groupby: a record of any other kind costs a look-up
            # here, not a group's making.)
            ordered = iter(sorted(events, key=_T_NS))
            for first in ordered:
                event: Event | None = first
                while event is not None:
                    kind = event[2]
                    repeats = REPEATS.get(kind)
                    if repeats is None:
                        apply_one(event)
                        break
                    run, event = [event], None
                    for after in ordered:
                        if after[2] == kind:
                            run.append(after)
                        else:
                            event = after  # (the next run's first)
                            break
                    self._repeat(run, repeats)

    def _repeat(self, run: list[Event], repeats: Repeats) -> None:
        """A run of records of one kind: each process's first, and any that is not its last one's
        object again, applied as any; the others (its kind's ``repeats.ready`` said of its last
        they may be) by ``repeats.again``, before its next record applied as any — with exactly the
        effects each would have applied alone, in order (tests/test_model_repeats.py compares)."""
        apply_one = self.apply_one
        first = run[0]
        if len(run) == 1 or first.kind in UNLOGGED or self._about_a_primitive(first):
            for event in run:
                apply_one(event)
            return
        # (The usual: no record's data has anything to show differently, seen in one look.)
        plain = none_need_showing(list(map(_DATA, run)))
        log = self.log.append
        # By process: the object it may say again, itself, and its records said again, to be applied.
        ready: dict[int, tuple[str, Proc, list[Event]]] = {}
        for event in run:
            pid = event[1]
            said = ready.get(pid)
            if said is not None and said[0] == event[3] and (plain or not (event[4] and needs_showing(event[4]))):
                said[2].append(event)
                log(event)  # (the log in the records' order: the rest of what it does is the process's own)
                self._checked = event
                continue
            if said is not None:
                del ready[pid]
                self._again_plain(said[2], said[1], repeats)
            apply_one(event)
            obj = event[3]
            proc = repeats.ready(self, event) if obj.isprintable() else None
            if proc is not None:
                ready[pid] = (obj, proc, [])
        for _, proc, again in ready.values():
            self._again_plain(again, proc, repeats)

    def _again_plain(self, run: list[Event], proc: Proc, repeats: Repeats) -> None:
        """What ``apply_one`` does for each of ``run`` (records that need nothing made visible, not
        about a primitive, of ``proc``) but log it, and their kind's ``again``."""
        if not run:
            return
        repeats.again(self, proc, run)
        last = run[-1]
        self.applied += len(run)
        if last.t_ns > self.last_ns:  # (in time order: the last is the latest)
            self.last_ns = last.t_ns
        proc.recent.extend(run)

    def apply_one(self, event: Event) -> None:
        # (Every record of a run passes here, a flood's hundreds of thousands a second: plain steps,
        # calls only where needed — an empty record's data is not looked at, nor its kind's handler
        # looked up twice.)
        record = event
        t_ns, pid, kind, obj, data = event
        if not obj.isprintable() or (data and needs_showing(data)):
            event = _shown(event)
            obj = event.obj
        else:
            self._checked = event  # its line need not look again (``_visible``)
        if self.t0 is None:
            self.t0 = t_ns
        if t_ns > self.last_ns:
            self.last_ns = t_ns
        self.applied += 1
        if len(self.prims) >= MAX_PRIMITIVES and obj not in self.prims and self._about_a_primitive(event):
            if kind == "prim.new":
                self.refused["primitives"] += 1
            return
        handler = HANDLERS.get(kind)
        if handler is not None:
            handler(self, event)
            if self.said_again:  # (a process's end, told again by another who saw it): no line, no log
                self.said_again = False
                if len(self._again) > 10_000:  # (records applied one by one, with no batch's start)
                    self._again.clear()
                self._again[id(record)] = record
                return
        if kind not in UNLOGGED:
            self.log.append(event)
            proc = self.procs.get(pid)
            if proc is not None:
                proc.recent.append(event)

    @staticmethod
    def _about_a_primitive(event: Event) -> bool:
        return event.kind.partition(".")[0] in PRIM_FAMILIES

    def add_prim(self, prim_id: str, name: str, family: str, site: str = "", copy: bool = False) -> Prim:
        """A new primitive, its name made unique ("lock", "lock#2") so that :meth:`prim` finds it;
        a ``copy`` (a forked child's of its parent's threading lock) keeps the name it copies."""
        self.holding_words.clear()  # (an id held before its primitive was made is shown by its name now)
        if copy and name in self._named:
            return self.prims.setdefault(prim_id, Prim(prim_id, name, family, site))
        prim = self.prims[prim_id] = Prim(prim_id, self._unique(name), family, site)
        self._named[prim.name] = prim_id
        return prim

    def name_prim(self, prim: Prim, name: str, family: str, site: str) -> None:
        """A primitive made by a record that came before its ``prim.new`` (a pool's workers
        report before the pool has said it exists): its name, kind and site now."""
        del self._named[prim.name]
        self.holding_words.clear()  # (said by its id until now)
        prim.name, prim.family, prim.site = self._unique(name), family, site
        self._named[prim.name] = prim.id

    def _unique(self, name: str) -> str:
        unique = name
        if unique in self._named:
            # Numbered from the last number this name got, not from 2 again: ten thousand locks
            # called "lock" cost ten thousand steps, not fifty million.
            n = self._numbered.get(name, 1)
            while unique in self._named:
                n += 1
                unique = f"{name}#{n}"
            self._numbered[name] = n
        return unique

    # --- reading ----------------------------------------------------------

    def name_of(self, pid: int) -> str:
        """A process's name; a thread's (its id in a primitive's tables) as "process: thread"."""
        proc = self.procs.get(pid)
        if proc is not None:
            return proc.name
        owner = self.thread_pid.get(pid)
        if owner is not None and owner in self.procs:
            return f"{self.procs[owner].name}: {self.thread_names.get(pid) or f'thread {pid}'}"
        return f"pid {pid}"

    def pid_of(self, actor: int) -> int:
        """The process an actor id (a pid, or a thread's native id) belongs to."""
        return self.thread_pid.get(actor, actor)

    def actor(self, actor: int) -> Actor | None:
        """A process's main thread (``actor`` is its pid) or another of its threads."""
        proc = self.procs.get(actor)
        if proc is not None:
            return proc
        owner = self.procs.get(self.thread_pid.get(actor, -1))
        return owner.threads.get(actor) if owner is not None else None

    def live_actors(self) -> list[tuple[int, Actor]]:
        """Every thread known to wait or hold, of every live process: (id, actor)."""
        out: list[tuple[int, Actor]] = []
        for proc in self.procs.values():
            if proc.alive:
                out.append((proc.pid, proc))
                out.extend((tid, thread) for tid, thread in proc.threads.items() if not thread.ended)
        return out

    def where(self, site_id: str) -> str:
        """A site in words (``consumer.py:9 in consume``), "" if unknown."""
        words = self._wheres.get(site_id)
        if words is None:
            site = self.sites.get(site_id)
            if site is None:
                return ""
            words = self._wheres[site_id] = site.where
        return words

    def forget_where(self, site_id: str) -> None:
        """A site said anew (its id given again, by a new process with an old pid)."""
        self._wheres.pop(site_id, None)

    def by_role(self, role: str) -> list[Proc]:
        return [p for p in self.procs.values() if p.role == role]

    def prim(self, name: str, family: str = "") -> Prim:
        """The primitive called ``name``; an empty one if it has not reported yet."""
        prim_id = self._named.get(name)
        if prim_id is None:
            return Prim(name, name, family)
        return self.prims[prim_id]

    def prim_name(self, prim_id: str) -> str:
        """The display name of the primitive with this id (the id itself if it never said)."""
        prim = self.prims.get(prim_id)
        return prim.name if prim else prim_id

    def quoted_names(self, prim_ids: Iterable[str]) -> str:
        """Primitives' names as the words say what is held: ``'fork', 'knife'``."""
        return ", ".join(f"'{self.prim_name(i)}'" for i in prim_ids)

    def _visible(self, event: Event) -> Event:
        """The record as it may be shown (the same record, nearly always: see ``_shown``)."""
        if event is self._checked or (event.obj.isprintable() and not needs_showing(event.data)):
            return event
        return _shown(event)

    def told_again(self, event: Event) -> bool:
        """Whether ``event``, of the last batch applied, told the model nothing new (it makes no line)."""
        return self._again.get(id(event)) is event

    def describe(self, event: Event) -> str | None:
        """The record in words, primitives by their display names, a wait with where it waits."""
        event = self._visible(event)
        return describe(event, self._obj_name(event), self._where(event))

    def line(self, event: Event, colours: bool = False) -> str | None:
        """The record as one log line (the headless output, the event log): by its thread, if not the main one.
        ``colours``: a printed line keeps its colour codes (headless, on a terminal)."""
        # (Made for every record a headless run prints: the usual case is looked up inline.)
        if self._again.get(id(event)) is event:
            return None
        event = self._visible(event)
        kind, data = event.kind, event.data
        who = self.who(event)
        if kind == "proc.seen":
            obj = self._obj_name(event)
        else:
            prim = self.prims.get(event.obj)
            obj = prim.name if prim is not None else event.obj
        at = data.get("at")
        where = (self._wheres.get(at) or self.where(at)) if type(at) is str else ""
        return line(event, self.t0 or event.t_ns, who, obj, where, colours)

    def who(self, event: Event) -> str:
        """Who a record's line names: its thread, if not the main one, else its process; mpviz for a ``run.`` record."""
        if event.kind.startswith("run."):
            return "mpviz"
        th = event.data.get("th")
        actor = th if type(th) is int and th > 0 and th in self.thread_pid else event.pid
        proc = self.procs.get(actor)
        return proc.name if proc is not None else self.name_of(actor)

    def _obj_name(self, event: Event) -> str:
        """What the record is about, by its display name: a primitive, or the child a join seen from outside waits for."""
        child = event.data.get("child") if event.kind == "proc.seen" else None
        if type(child) is int:
            return self.procs[child].name if child in self.procs else ""
        return self.prim_name(event.obj)

    def _where(self, event: Event) -> str:
        at = event.data.get("at")
        return self.where(at) if isinstance(at, str) else ""

    def refusals(self) -> list[str]:
        """What the run refused, a sentence each: shown with the alerts, printed at the end."""
        return [refusal(what, n, MAX_PRIMITIVES) for what, n in sorted(self.refused.items()) if n]

    def said(self, state: str) -> int:
        """How often any process said ``state``, over the whole run."""
        return self.counts[state]

    def seconds(self, t_ns: int) -> float:
        """Seconds since the first record."""
        return (t_ns - (self.t0 or t_ns)) / 1e9

    def take_dirty(self) -> tuple[set[int], set[str]]:
        procs, prims = self.dirty_procs, self.dirty_prims
        self.dirty_procs, self.dirty_prims = set(), set()
        return procs, prims


# A record's time, as the sort key of a batch (a C call, not a function of ours: every record is sorted).
_T_NS = itemgetter(0)
_DATA = itemgetter(4)


def _shown(event: Event) -> Event:
    """The record with the texts a program supplied made visible (``mpviz.shown``), once, before
    any view has them: names, states, previews, errors.  What a process printed stays as it
    printed it: the printed pane renders its colour codes (and makes the rest visible itself)."""
    data = event.data
    if event.kind == "proc.output":
        data = {**shown({k: v for k, v in data.items() if k != "text"}), "text": data.get("text", "")}
    else:
        data = shown(data)
    return event._replace(obj=visible(event.obj), data=data)


# What a record of a kind does to the model.  Plain functions, not bound methods kept by
# each model: a model refers to nothing that refers back to it, so a dropped one (a
# replay's seek) goes at once.
Handler = Callable[[Model, Event], None]
HANDLERS: dict[str, Handler] = {}


class Repeats(NamedTuple):
    """How a kind's records that a process sends again and again, of one object, are applied
    together: a flood's reports, without the calls each would cost alone.

    ``ready(model, event)``, once ``event`` is applied as any: its process, if each record of the
    same kind and object that it sends next, alike but for its time and data, would change nothing
    but what ``again`` changes, whatever records of this kind of other processes come between;
    else None.  ``again(model, proc, run)``: what the kind's handler does for each of ``run`` then,
    in order.  What every record does (counted, logged …) is the model's own."""

    ready: Callable[[Model, Event], Proc | None]
    again: Callable[[Model, Proc, list[Event]], None]


REPEATS: dict[str, Repeats] = {}


def handles(*kinds: str) -> Callable[[Handler], Handler]:
    """Make the decorated function the handler of records of these kinds (one handler a kind)."""

    def register(handler: Handler) -> Handler:
        for kind in kinds:
            if HANDLERS.setdefault(kind, handler) is not handler:
                raise ValueError(f"{kind} has a handler already: {HANDLERS[kind].__qualname__}")
        return handler

    return register
