"""The model: a pure reducer from event records to the state of a lesson.

No I/O, no clock of its own, no Textual: feed it records with :meth:`Model.apply`
and read processes, primitives, counts and anomalies.  The time "now", where
an answer depends on it, is always an argument.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Iterable

from mpviz.lang import T
from mpviz.model.anomalies import find_anomalies
from mpviz.model.state import STARTING_WORDS, Anomaly, Phase, Prim, Proc, Said, Stats
from mpviz.model.timing import Activity, Durations
from mpviz.model.words import describe, line, said
from mpviz.telemetry import Event

LOG_LENGTH = 2000
OUTPUT_LENGTH = 2000

# A process's state in words, in the current language (the records stay English).
STATES = {
    "running": T("running", "运行中"),
    "holding": T("holding {names}", "持有 {names}"),
    "paused": T("paused ({words})", "已暂停({words})"),
    "acquire": T("waiting for {word} '{name}'", "等待{word} '{name}'"),
    "join": T("waiting for {name} to end (join)", "等待 {name} 结束(join)"),
    "cond": T("waiting on condition '{name}'", "在条件变量 '{name}' 上等待"),
    "barrier": T("waiting at barrier '{name}' ({n} of {parties})", "在屏障 '{name}' 等待({parties} 个中第 {n} 个)"),
    "event": T("waiting for event '{name}'", "等待事件 '{name}'"),
    "put": T("blocked on put to '{name}' (full)", "put 阻塞:'{name}' 已满"),
    "get": T("blocked on get from '{name}'", "get 阻塞:'{name}' 是空的"),
    "drain": T("waiting for queue '{name}' to drain", "等待队列 '{name}' 的任务全部完成"),
    "recv": T("blocked on recv from pipe '{name}'", "recv 阻塞:管道 '{name}'"),
}


class Model:
    def __init__(self) -> None:
        self.procs: dict[int, Proc] = {}
        # By id (what the records carry); ``_named`` finds them by display name.
        self.prims: dict[str, Prim] = {}
        self._named: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        # Facts main observed about the lesson's world (what a file holds), by name.
        self.values: dict[str, dict] = {}
        self.log: deque[Event] = deque(maxlen=LOG_LENGTH)
        # What the processes printed, newest last (for display: bounded).
        self.output: deque[Event] = deque(maxlen=OUTPUT_LENGTH)
        # Records a process could not send in time and dropped (``proc.lost``), over the run.
        self.lost = 0
        self.lost_by: dict[int, int] = {}
        self.t0: int | None = None
        self.last_ns: int = 0
        self.applied = 0
        # Changes since the views last looked: they redraw only what moved.
        self.dirty_procs: set[int] = set()
        self.dirty_prims: set[str] = set()
        # Counts every new entry in any process's history: the timeline redraws when it moves.
        self.history_changes = 0

    # The handlers are the class's functions, not bound methods kept by each model: a model
    # refers to nothing that refers back to it, so a dropped one (a replay's seek) goes at once.
    @classmethod
    def _make_handlers(cls) -> dict[str, Callable[[Model, Event], None]]:
        handlers: dict[str, Callable[[Model, Event], None]] = {
            "proc.spawn": cls._proc_spawn,
            "proc.start": cls._proc_start,
            "proc.state": cls._proc_state,
            "proc.error": cls._proc_error,
            "proc.exit": cls._proc_exit,
            "proc.signal": cls._proc_signal,
            "proc.stats": cls._proc_stats,
            "prim.new": cls._prim_new,
            "proc.output": cls._proc_output,
            "proc.join": cls._proc_join,
            "proc.joined": cls._proc_joined,
            "proc.lost": cls._proc_lost,
            "proc.sleep": cls._proc_sleep,
            "proc.slept": cls._proc_sleep,
            "cond.wait": cls._cond_wait,
            "cond.woke": cls._cond_woke,
            "cond.timeout": cls._cond_woke,
            "cond.notify": cls._cond_notify,
            "cond.notify_all": cls._cond_notify,
            "barrier.wait": cls._barrier_wait,
            "barrier.pass": cls._barrier_pass,
            "barrier.broken": cls._barrier_broken,
            "barrier.abort": cls._barrier_broken,
            "barrier.reset": cls._barrier_reset,
            "pool.task": cls._pool_task,
            "pool.result": cls._pool_result,
            "event.set": cls._event_set,
            "event.clear": cls._event_clear,
            "event.wait": cls._event_wait,
            "event.woke": cls._event_woke,
            "event.timeout": cls._event_timeout,
            "queue.put": cls._queue_put,
            "queue.get": cls._queue_get,
            "queue.put_blocked": cls._queue_put_blocked,
            "queue.get_blocked": cls._queue_get_blocked,
            "queue.timeout": cls._queue_timeout,
            "queue.join_wait": cls._queue_join_wait,
            "queue.joined": cls._queue_joined,
            "queue.task_done": cls._touch,
            "pipe.send": cls._pipe_send,
            "pipe.recv": cls._pipe_recv,
            "pipe.recv_blocked": cls._pipe_recv_blocked,
            "data.value": cls._data_value,
        }
        for family in ("lock", "rlock", "sem"):
            handlers[f"{family}.wait"] = cls._acq_wait
            handlers[f"{family}.acquired"] = cls._acq_acquired
            handlers[f"{family}.released"] = cls._acq_released
            handlers[f"{family}.timeout"] = cls._acq_timeout
        return handlers

    # --- entry points ----------------------------------------------------

    def apply(self, events: Iterable[Event]) -> None:
        """Apply a batch of records, in time order."""
        for event in sorted(events, key=_time):
            self.apply_one(event)

    def apply_one(self, event: Event) -> None:
        if self.t0 is None:
            self.t0 = event.t_ns
        if event.t_ns > self.last_ns:
            self.last_ns = event.t_ns
        self.applied += 1
        handler = _HANDLERS.get(event.kind)
        if handler is not None:
            handler(self, event)
        if event.kind != "proc.stats":
            self.log.append(event)
            proc = self.procs.get(event.pid)
            if proc is not None:
                proc.recent.append(event)

    # --- reading ----------------------------------------------------------

    def name_of(self, pid: int) -> str:
        proc = self.procs.get(pid)
        return proc.name if proc else f"pid {pid}"

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

    def describe(self, event: Event) -> str | None:
        """The record in words, primitives by their display names."""
        return describe(event, self.prim_name(event.obj))

    def line(self, event: Event) -> str | None:
        """The record as one log line (the headless output, the event log)."""
        return line(event, self.t0 or event.t_ns, self.name_of(event.pid), self.prim_name(event.obj))

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

    def anomalies(self, now_ns: int) -> list[Anomaly]:
        """What is wrong right now: deadlocks, dead or paused holders, hangs (see ``anomalies.py``)."""
        return find_anomalies(self, now_ns)

    def _data_value(self, event: Event) -> None:
        self.values.setdefault(event.obj, {}).update(event.data)
        self.dirty_prims.add(event.obj)

    # --- processes --------------------------------------------------------

    def _get_proc(self, event: Event) -> Proc:
        proc = self.procs.get(event.pid)
        if proc is None:
            t = event.t_ns
            proc = self.procs[event.pid] = Proc(event.pid, started_ns=t, since_ns=t, phase_since_ns=t)
            proc.history.append((event.t_ns, Phase.STARTING, str(STARTING_WORDS)))
            self.history_changes += 1
        return proc

    def _identify(self, proc: Proc, event: Event) -> None:
        data = event.data
        proc.role = str(data.get("role", proc.role))
        proc.label = str(data.get("label", proc.label))
        ppid = data.get("ppid")
        # Who started it (its proc.spawn) is its parent, even when the kernel's
        # parent is another (a forkserver's child says the forkserver).
        if isinstance(ppid, int) and (proc.ppid is None or event.kind == "proc.spawn"):
            proc.ppid = ppid

    def _proc_spawn(self, event: Event) -> None:
        self._identify(self._get_proc(event), event)
        self.dirty_procs.add(event.pid)

    def _proc_start(self, event: Event) -> None:
        proc = self._get_proc(event)
        self._identify(proc, event)
        if proc.phase is Phase.STARTING:
            self._settle(proc, event.t_ns)

    def _proc_state(self, event: Event) -> None:
        proc = self._get_proc(event)
        proc.said = event.obj
        fact = proc.facts.get(event.obj)
        if fact is None:
            fact = proc.facts[event.obj] = Said()
        fact.add(event.t_ns, event.data)
        self.counts[event.obj] += 1
        self._settle(proc, event.t_ns)

    def _proc_error(self, event: Event) -> None:
        proc = self._get_proc(event)
        proc.error = str(event.data.get("error", ""))
        self.dirty_procs.add(proc.pid)

    def _proc_exit(self, event: Event) -> None:
        proc = self._get_proc(event)
        code = event.data.get("code")
        if not proc.alive:
            # Known gone, but not how: a later word (its parent's) may say.
            if proc.exit_code is None and proc.exit_signal is None and isinstance(code, int):
                proc.exit_code = code
                proc.exit_signal = str(event.data["signal"]) if event.data.get("signal") else None
                proc.state = proc.exit_words()
                self.dirty_procs.add(proc.pid)
            return
        proc.exit_code = code if isinstance(code, int) else None
        signal = event.data.get("signal")
        proc.exit_signal = str(signal) if signal else None
        proc.exited_ns = event.t_ns
        proc.stopped = False
        proc.blocked, proc.waiting_on = "", None
        # A dead process waits for nothing; but what it holds stays held: a
        # multiprocessing lock is not released when its holder dies.
        for prim in self.prims.values():
            timing = prim.timing
            for waiting, durations in (
                (prim.waiters, timing.waited),
                (prim.blocked_get, timing.get_blocked),
                (prim.blocked_put, timing.put_blocked),
            ):
                if _stop_waiting(waiting, proc.pid, event.t_ns, durations):
                    self.dirty_prims.add(prim.id)
        proc.sleeping = False
        proc.split.end(event.t_ns)
        self._set_state(proc, event.t_ns, Phase.EXITED, proc.exit_words())

    def _proc_signal(self, event: Event) -> None:
        proc = self._get_proc(event)
        if not proc.alive:
            return
        if event.obj == "SIGSTOP":
            proc.stopped = True
        elif event.obj == "SIGCONT":
            proc.stopped = False
        self._settle(proc, event.t_ns)
        self.dirty_prims.update(proc.holds)

    def _proc_stats(self, event: Event) -> None:
        proc = self.procs.get(event.pid)
        if proc is None or not proc.alive:
            return
        d = event.data
        old = proc.stats
        # Memory and threads come only when they may have changed; keep the last ones seen.
        # A value of the wrong kind (a crafted record) counts as not given.
        rss = _amount(d.get("rss"), old.rss if old else 0)
        threads = _amount(d.get("threads"), old.threads if old else 0)
        cpu = d.get("cpu")
        percent = float(cpu) if isinstance(cpu, (int, float)) and math.isfinite(cpu) and cpu >= 0 else 0.0
        stats = Stats(percent, rss, threads, str(d.get("status", "")))
        if stats != old:
            proc.stats = stats
            self.dirty_procs.add(proc.pid)

    def _settle(self, proc: Proc, t_ns: int) -> None:
        """Recompute a process's state in words and its phase from what is known."""
        if not proc.alive:
            return
        if proc.blocked:
            phase, words = Phase.BLOCKED, proc.blocked
        elif proc.holds:
            phase = Phase.HOLDING
            words = self._said(proc) or STATES["holding"](names=", ".join(f"'{self.prim_name(i)}'" for i in proc.holds))
        else:
            phase, words = Phase.RUNNING, self._said(proc) or str(STATES["running"])
        if proc.stopped:
            phase, words = Phase.STOPPED, STATES["paused"](words=words)
        self._set_state(proc, t_ns, phase, words)
        proc.split.move(self._activity(proc), t_ns)

    def _activity(self, proc: Proc) -> Activity:
        """What the process spends this stretch of its time on (see ``TimeSplit``)."""
        if proc.stopped:
            return Activity.OTHER
        if proc.blocked:
            prim = self.prims.get(proc.waiting_on or "")
            family = prim.family if prim is not None else ""
            if family in ("lock", "rlock", "sem", "cond"):
                return Activity.LOCK
            if family in ("queue", "pipe"):
                return Activity.QUEUE
            if family == "event":
                return Activity.EVENT
            return Activity.OTHER  # joining a process, at a barrier
        if proc.holds:
            return Activity.HOLDING
        if proc.sleeping:
            return Activity.SLEEPING
        return Activity.RUNNING

    def _proc_sleep(self, event: Event) -> None:
        proc = self._get_proc(event)
        proc.sleeping = event.kind == "proc.sleep"
        self._settle(proc, event.t_ns)

    @staticmethod
    def _said(proc: Proc) -> str:
        """What the process last said, in words of the current language ("" if nothing)."""
        if not proc.said:
            return ""
        fact = proc.facts.get(proc.said)
        return said(proc.said, fact.last if fact else {})

    def _set_state(self, proc: Proc, t_ns: int, phase: Phase, words: str) -> None:
        self.dirty_procs.add(proc.pid)
        if phase is proc.phase and words == proc.state:
            return
        if phase is not proc.phase:
            proc.totals[proc.phase] = proc.totals.get(proc.phase, 0) + max(0, t_ns - proc.phase_since_ns)
            proc.phase, proc.phase_since_ns = phase, t_ns
        if words != proc.state:
            proc.state, proc.since_ns = words, t_ns
        proc.history.append((t_ns, phase, words))
        self.history_changes += 1

    def _block(self, event: Event, words: str) -> Proc:
        proc = self._get_proc(event)
        proc.blocked, proc.waiting_on = words, event.obj
        self._settle(proc, event.t_ns)
        return proc

    def _unblock(self, event: Event) -> Proc:
        proc = self._get_proc(event)
        proc.blocked, proc.waiting_on = "", None
        self._settle(proc, event.t_ns)
        return proc

    def _touch(self, event: Event) -> None:
        self._prim(event)

    def _prim(self, event: Event) -> Prim:
        prim = self.prims.get(event.obj)
        if prim is None:
            # No prim.new seen (a recording from before ids, or a lost record):
            # the id is all the name there is.
            prim = self._add_prim(event.obj, event.obj, event.kind.partition(".")[0])
        self.dirty_prims.add(prim.id)
        return prim

    def _add_prim(self, prim_id: str, name: str, family: str, site: str = "") -> Prim:
        unique, n = name, 1
        while unique in self._named:
            n += 1
            unique = f"{name}#{n}"
        prim = self.prims[prim_id] = Prim(prim_id, unique, family, site)
        self._named[unique] = prim_id
        return prim

    def _prim_new(self, event: Event) -> None:
        if event.obj in self.prims:
            return
        d = event.data
        family = str(d.get("kind", ""))
        prim = self._add_prim(event.obj, str(d.get("name") or family or event.obj), family, str(d.get("site", "")))
        capacity = d.get("value")
        if family == "sem" and type(capacity) is int:
            prim.capacity = prim.value = capacity
        self.dirty_prims.add(prim.id)

    # --- locks and semaphores ----------------------------------------------

    def _acq_facts(self, prim: Prim, event: Event) -> None:
        value = event.data.get("value")
        if isinstance(value, int):
            prim.value = value
        capacity = event.data.get("of")
        if isinstance(capacity, int):
            prim.capacity = capacity

    def _acq_wait(self, event: Event) -> None:
        prim = self._prim(event)
        self._acq_facts(prim, event)
        _start_waiting(prim, prim.waiters, event)
        prim.waits += 1
        self._block(event, STATES["acquire"](word=prim.word, name=prim.name))

    def _acq_acquired(self, event: Event) -> None:
        prim = self._prim(event)
        self._acq_facts(prim, event)
        _stop_waiting(prim.waiters, event.pid, event.t_ns, prim.timing.waited)
        prim.acquisitions += 1
        if event.pid not in prim.holders:
            prim.overlap.step(event.t_ns, +1)
            prim.held_since[event.pid] = event.t_ns
        prim.holders[event.pid] = prim.holders.get(event.pid, 0) + 1
        proc = self._get_proc(event)
        proc.holds[prim.id] = proc.holds.get(prim.id, 0) + 1
        proc.blocked, proc.waiting_on = "", None
        self._settle(proc, event.t_ns)

    def _acq_released(self, event: Event) -> None:
        prim = self._prim(event)
        self._acq_facts(prim, event)
        if event.pid in prim.holders:
            self._drop_hold(event.pid, prim, event.t_ns)
        elif prim.family == "lock":
            # A multiprocessing Lock has no owner: anyone may release it, and
            # then its holder holds nothing.
            earlier = [pid for pid, since in prim.held_since.items() if since < event.t_ns]
            if earlier:
                self._drop_hold(earlier[0], prim, event.t_ns, everything=True)

    def _drop_hold(self, pid: int, prim: Prim, t_ns: int, everything: bool = False) -> None:
        depth = prim.holders.get(pid, 0) - 1
        if depth <= 0 or everything:
            prim.holders.pop(pid, None)
            _stop_waiting(prim.held_since, pid, t_ns, prim.timing.held)
            prim.overlap.step(t_ns, -1)
        else:
            prim.holders[pid] = depth
        proc = self.procs.get(pid)
        if proc is None:
            return
        left = proc.holds.get(prim.id, 0) - 1
        if left <= 0 or everything:
            proc.holds.pop(prim.id, None)
        else:
            proc.holds[prim.id] = left
        self._settle(proc, t_ns)

    def _acq_timeout(self, event: Event) -> None:
        prim = self._prim(event)
        _stop_waiting(prim.waiters, event.pid, event.t_ns, prim.timing.waited)
        self._unblock(event)

    # --- what processes print ------------------------------------------------

    def _proc_output(self, event: Event) -> None:
        proc = self._get_proc(event)
        proc.lines += 1
        self.output.append(event)
        self.dirty_procs.add(proc.pid)

    def _proc_join(self, event: Event) -> None:
        child = event.data.get("child")
        name = self.name_of(child) if isinstance(child, int) else event.obj
        proc = self._block(event, STATES["join"](name=name))
        proc.waiting_on = f"pid {child}"  # a process, not a primitive: see Proc.waiting_on

    def _proc_joined(self, event: Event) -> None:
        proc = self.procs.get(event.pid)
        if proc is not None and proc.waiting_on is not None and proc.waiting_on.startswith("pid "):
            self._unblock(event)

    def _proc_lost(self, event: Event) -> None:
        n = event.data.get("n")
        if type(n) is int and n > 0:
            self.lost += n
            self.lost_by[event.pid] = self.lost_by.get(event.pid, 0) + n

    # --- conditions and barriers -----------------------------------------------

    def _cond_wait(self, event: Event) -> None:
        prim = self._prim(event)
        _start_waiting(prim, prim.waiters, event)
        prim.waits += 1
        self._block(event, STATES["cond"](name=prim.name))

    def _cond_woke(self, event: Event) -> None:
        prim = self._prim(event)
        _stop_waiting(prim.waiters, event.pid, event.t_ns, prim.timing.waited)
        self._unblock(event)

    def _cond_notify(self, event: Event) -> None:
        self._prim(event).notifies += 1

    def _barrier_wait(self, event: Event) -> None:
        prim = self._prim(event)
        parties = event.data.get("parties")
        if type(parties) is int:
            prim.capacity = parties
        _start_waiting(prim, prim.waiters, event)
        self._block(event, STATES["barrier"](name=prim.name, n=len(prim.waiters), parties=prim.capacity or "?"))

    def _barrier_pass(self, event: Event) -> None:
        prim = self._prim(event)
        _stop_waiting(prim.waiters, event.pid, event.t_ns, prim.timing.waited)
        prim.passed += 1
        self._unblock(event)

    def _barrier_broken(self, event: Event) -> None:
        prim = self._prim(event)
        prim.broken = True
        _stop_waiting(prim.waiters, event.pid, event.t_ns, prim.timing.waited)
        proc = self.procs.get(event.pid)
        if proc is not None and proc.waiting_on == prim.id:
            self._unblock(event)

    def _barrier_reset(self, event: Event) -> None:
        self._prim(event).broken = False

    def _pool_task(self, event: Event) -> None:
        n = event.data.get("n")
        self._prim(event).tasks += n if type(n) is int else 1

    def _pool_result(self, event: Event) -> None:
        n = event.data.get("n")
        self._prim(event).results += n if type(n) is int else 1

    # --- events -------------------------------------------------------------

    def _event_set(self, event: Event) -> None:
        prim = self._prim(event)
        prim.is_set, prim.changed_ns = True, event.t_ns
        prim.sets += 1
        prim.first_set_ns = min(prim.first_set_ns or event.t_ns, event.t_ns)

    def _event_clear(self, event: Event) -> None:
        prim = self._prim(event)
        prim.is_set, prim.changed_ns = False, event.t_ns
        prim.clears += 1

    def _event_wait(self, event: Event) -> None:
        prim = self._prim(event)
        _start_waiting(prim, prim.waiters, event)
        prim.waits += 1
        self._block(event, STATES["event"](name=prim.name))

    def _event_woke(self, event: Event) -> None:
        prim = self._prim(event)
        _stop_waiting(prim.waiters, event.pid, event.t_ns, prim.timing.waited)
        prim.first_pass_ns = min(prim.first_pass_ns or event.t_ns, event.t_ns)
        self._unblock(event)

    def _event_timeout(self, event: Event) -> None:
        prim = self._prim(event)
        _stop_waiting(prim.waiters, event.pid, event.t_ns, prim.timing.waited)
        self._unblock(event)

    # --- queues and pipes ---------------------------------------------------

    def _queue_put(self, event: Event) -> None:
        prim = self._prim(event)
        _stop_waiting(prim.blocked_put, event.pid, event.t_ns, prim.timing.put_blocked)
        item = str(event.data.get("item", ""))
        prim.puts += 1
        prim.depth += 1
        prim.deepest = max(prim.deepest, prim.depth)
        if event.data.get("none"):
            prim.pills_put += 1
        else:
            prim.putters.add(event.pid)
        _count(prim.in_flight, item, +1)
        prim.depth_history.append((event.t_ns, prim.depth))
        proc = self.procs.get(event.pid)
        if proc is not None and proc.blocked:
            self._unblock(event)

    def _queue_get(self, event: Event) -> None:
        prim = self._prim(event)
        _stop_waiting(prim.blocked_get, event.pid, event.t_ns, prim.timing.get_blocked)
        item = str(event.data.get("item", ""))
        prim.gets += 1
        prim.depth -= 1
        if event.data.get("none"):
            prim.pills_got += 1
        _count(prim.in_flight, item, -1)
        prim.depth_history.append((event.t_ns, max(prim.depth, 0)))
        proc = self.procs.get(event.pid)
        if proc is not None and proc.blocked:
            self._unblock(event)

    def _queue_put_blocked(self, event: Event) -> None:
        prim = self._prim(event)
        _start_waiting(prim, prim.blocked_put, event)
        prim.put_waits += 1
        self._block(event, STATES["put"](name=prim.name))

    def _queue_get_blocked(self, event: Event) -> None:
        prim = self._prim(event)
        _start_waiting(prim, prim.blocked_get, event)
        prim.waits += 1
        self._block(event, STATES["get"](name=prim.name))

    def _queue_timeout(self, event: Event) -> None:
        prim = self._prim(event)
        _stop_waiting(prim.blocked_get, event.pid, event.t_ns, prim.timing.get_blocked)
        _stop_waiting(prim.blocked_put, event.pid, event.t_ns, prim.timing.put_blocked)
        self._unblock(event)

    def _queue_joined(self, event: Event) -> None:
        self._unblock(event)

    def _queue_join_wait(self, event: Event) -> None:
        self._block(event, STATES["drain"](name=self._prim(event).name))

    def _pipe_send(self, event: Event) -> None:
        prim = self._prim(event)
        prim.puts += 1
        end = _end(event)
        prim.sent[end] = prim.sent.get(end, 0) + 1

    def _pipe_recv(self, event: Event) -> None:
        prim = self._prim(event)
        prim.gets += 1
        end = _end(event)
        prim.received[end] = prim.received.get(end, 0) + 1
        _stop_waiting(prim.blocked_get, event.pid, event.t_ns, prim.timing.get_blocked)
        proc = self.procs.get(event.pid)
        if proc is not None and proc.blocked:
            self._unblock(event)

    def _pipe_recv_blocked(self, event: Event) -> None:
        prim = self._prim(event)
        _start_waiting(prim, prim.blocked_get, event)
        self._block(event, STATES["recv"](name=prim.name))


_HANDLERS = Model._make_handlers()


def _amount(value: object, default: int) -> int:
    """A count or a size from a record: a whole number, not negative; ``default`` otherwise."""
    return value if type(value) is int and value >= 0 else default


def _start_waiting(prim: Prim, waiting: dict[int, int], event: Event) -> None:
    """A process starts waiting on ``prim`` (in one of its tables: waiters, blocked getters or putters)."""
    waiting.setdefault(event.pid, event.t_ns)
    timing = prim.timing
    timing.most_waiting = max(timing.most_waiting, len(prim.waiters) + len(prim.blocked_get) + len(prim.blocked_put))


def _stop_waiting(waiting: dict[int, int], pid: int, t_ns: int, durations: Durations) -> bool:
    """A process stops waiting (or holding): how long it did goes into ``durations``.  False if it was not."""
    since = waiting.pop(pid, None)
    if since is None:
        return False
    durations.add(t_ns - since)
    return True


def _count(counts: dict[str, int], key: str, delta: int) -> None:
    n = counts.get(key, 0) + delta
    if n:
        counts[key] = n
    else:
        counts.pop(key, None)


def _end(event: Event) -> int:
    end = event.data.get("end")
    return end if type(end) is int else 0


def _time(event: Event) -> int:
    return event.t_ns
