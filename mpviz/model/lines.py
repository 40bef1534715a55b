"""Each record as one log line: which records make a line, its words (said once for a primitive's
record, then looked up), and its prefix of seconds, pid and actor.  The headless output and the
event log; the phrases themselves are in :mod:`mpviz.model.words`."""

from __future__ import annotations

from typing import Any

from mpviz import lang
from mpviz.lang import T
from mpviz.model.words import details, phrase, timed, timeout_of
from mpviz.telemetry import Event

# Records not worth a line: samples, and what is said once (a site, a thread's name and end).
UNSAID = frozenset(
    (
        "proc.stats",
        "proc.stdio",
        "proc.sleep",
        "proc.slept",
        "site.new",
        "proc.thread",
        "proc.thread_end",
        "proc.stack",
        "proc.stacks",
        "proc.reaped",
        "turn.ask",
        "turn.offer",
        "pitfall.unguarded",  # (the pitfall says it, with the first two processes that did it)
        "pitfall.callback",  # (the pitfall says it)
        "pitfall.fork_held",  # (the pitfall says it)
        "pitfall.proxy_copy",  # (the pitfall says it)
        "pitfall.main_guard",  # (the pitfall says it)
        "pitfall.pickle",  # (the pitfall says it)
        "pitfall.daemon",  # (the pitfall says it)
        "pool.init_failed",  # (the pitfall says it; the worker's error has its own line)
    )
)
# Records of a wait beginning: their line says where the wait is (``at``).
WAITS = frozenset(
    (
        "manager.wait",
        "lock.wait",
        "rlock.wait",
        "sem.wait",
        "cond.wait",
        "event.wait",
        "barrier.wait",
        "queue.put_blocked",
        "queue.get_blocked",
        "queue.join_wait",
        "pipe.recv_blocked",
        "proc.join",
    )
)
AT_SITE = T("{words} at {where}", "{words}({where})")
# Fields every operation's record may carry, about where and which thread, not what.
_WHERE_FIELDS = {"at", "th"}


def describe(event: Event, obj: str | None = None, where: str = "", colours: bool = False) -> str | None:
    """The event in words, or None for records not worth a line (stats samples).

    ``obj`` is the display name of the primitive the record is about (the
    model's, for an id); the record's own ``obj`` if not given.  ``where``: the
    site of the record (``prog.py:9 in f``), said for the start of a wait.
    ``colours``: a printed line keeps its colour codes (for a terminal).
    """
    kind = event.kind
    if kind in UNSAID:
        return None
    name = event.obj if obj is None else obj
    key: tuple[Any, ...] | None = None
    if kind.partition(".")[0] in _SAID_THE_SAME:
        key = (kind, name, where, lang.current(), *event.data.items())
        try:
            said = _said.get(key)
        except TypeError:  # a value that is not hashable (a list): said afresh
            key, said = None, None
        if said is not None:
            return said or None  # ("": a record not worth a line)
    words = phrase(event, name, colours)
    if words == "":
        words = None
    else:
        words = words or f"{kind} {name}{details(event.data, _WHERE_FIELDS)}"
        timeout = timeout_of(event) if kind in WAITS or kind == "pool.wait" else None
        if timeout is not None:
            words = timed(words, timeout)
        if where and kind in WAITS:
            words = AT_SITE(words=words, where=where)
    if key is not None:
        if len(_said) >= _SAID_MOST:
            _said.clear()
        _said[key] = words or ""
    return words


# The words of a primitive's record depend on nothing but the record, the names and the language:
# said once and looked up after (a lock taken 80 000 times by one process is one sentence).
_SAID_THE_SAME = frozenset(("lock", "rlock", "sem", "event", "queue", "cond", "barrier", "pipe"))
_said: dict[tuple[Any, ...], str] = {}
_SAID_MOST = 4096


WHO = 14


def line(event: Event, t0: int, who: str, obj: str | None = None, where: str = "", colours: bool = False) -> str | None:
    """One log line: seconds since start, pid, actor, what happened."""
    words = describe(event, obj, where, colours)
    if words is None:
        return None
    return said(event.t_ns - t0, event.pid, who, words)


def said(ns: int, pid: int, who: str, words: str) -> str:
    """A log line of ``words``: ``ns`` since the start, pid, actor."""
    key = (pid, who)
    prefix = _prefixes.get(key)
    if prefix is None:
        if len(_prefixes) >= _SAID_MOST:
            _prefixes.clear()
        prefix = _prefixes[key] = f"  {pid:>7}  {lang.ljust(who, WHO)} "
    return f"{seconds(ns)}{prefix}{words}"


_prefixes: dict[tuple[int, str], str] = {}


def seconds(ns: int) -> str:
    """Nanoseconds as a line's seconds, ``f"{ns / 1e9:8.3f}"``, made from the integer (a line a record)."""
    ms, rest = divmod(ns, 1_000_000)
    if ns < 0 or rest == 500_000:  # a tie rounds as the float does
        return f"{ns / 1e9:8.3f}"
    if rest > 500_000:
        ms += 1
    global _last_ms, _last_seconds
    if ms != _last_ms:  # (the records of one millisecond share it: a flood's hundreds)
        s, frac = divmod(ms, 1000)
        _last_ms, _last_seconds = ms, f"{s:4d}.{frac:03d}"
    return _last_seconds


_last_ms, _last_seconds = -1, ""
