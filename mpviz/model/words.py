"""Each record as one line of plain English: the headless output and the event log."""

from __future__ import annotations

from typing import Any

from mpviz.model.state import FAMILY_WORDS
from mpviz.telemetry import Event


def _value(data: dict[str, Any]) -> str:
    if "value" in data and "of" in data:
        return f" (value {data['value']}/{data['of']})"
    return ""


def _details(data: dict[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in data.items() if v is not None and v != ""]
    return f" ({', '.join(shown)})" if shown else ""


def _phrase(event: Event, obj: str) -> str | None:
    kind, d = event.kind, event.data
    family, _, op = kind.partition(".")
    if family in ("lock", "rlock", "sem"):
        what = f"{FAMILY_WORDS[family]} '{obj}'"
        return {
            "wait": f"waits for {what}{_value(d)}",
            "acquired": f"acquired {what}{_value(d)}",
            "released": f"released {what}{_value(d)}",
            "timeout": f"gave up waiting for {what}",
        }.get(op)
    if family == "event":
        return {
            "set": f"set event '{obj}' (flag True)",
            "clear": f"cleared event '{obj}' (flag False)",
            "wait": f"waits for event '{obj}' (flag False)",
            "woke": f"woke: event '{obj}' is set" if d.get("waited") else f"found event '{obj}' set, goes on",
            "timeout": f"gave up waiting for event '{obj}'",
        }.get(op)
    if family == "queue":
        item = d.get("item", "")
        return {
            "put": f"put {item!r} into queue '{obj}'" + (" (end signal)" if d.get("none") else ""),
            "get": f"got {item!r} from queue '{obj}'" + (" (end signal)" if d.get("none") else ""),
            "get_blocked": f"blocked on get: queue '{obj}' is empty",
            "put_blocked": f"blocked on put: queue '{obj}' is full",
            "timeout": f"gave up on {d.get('op', 'get')} from queue '{obj}'",
            "task_done": f"marked a task done on queue '{obj}'",
            "join_wait": f"waits for queue '{obj}' to drain",
            "joined": f"queue '{obj}' drained",
        }.get(op)
    if family == "cond":
        return {
            "wait": f"waits on condition '{obj}' (its lock let go)",
            "woke": f"woke on condition '{obj}' (its lock taken back)",
            "timeout": f"gave up waiting on condition '{obj}'",
            "notify": f"notified condition '{obj}'" + (f" ({d['n']})" if d.get("n", 1) != 1 else ""),
            "notify_all": f"notified every waiter of condition '{obj}'",
        }.get(op)
    if family == "barrier":
        return {
            "wait": f"arrived at barrier '{obj}' ({d.get('n_waiting', '?')} of {d.get('parties', '?')} waiting)",
            "pass": f"passed barrier '{obj}'",
            "broken": f"barrier '{obj}' is broken",
            "abort": f"aborted barrier '{obj}'",
            "reset": f"reset barrier '{obj}'",
        }.get(op)
    if family == "pool":
        n = d.get("n", 1)
        return {
            "task": f"handed {n} task{'' if n == 1 else 's'} of {d.get('func', '?')} to pool '{obj}'",
            "result": f"got {n} result{'' if n == 1 else 's'} from pool '{obj}'",
            "run": f"runs a task of {d.get('func', '?')} from pool '{obj}'",
            "done": f"finished a task of {d.get('func', '?')} from pool '{obj}'",
        }.get(op)
    if family == "pipe":
        item = d.get("item", "")
        return {
            "send": f"sent {item!r} through pipe '{obj}' (end {d.get('end')})",
            "recv": f"received {item!r} from pipe '{obj}' (end {d.get('end')})",
            "recv_blocked": f"blocked on recv: pipe '{obj}' (end {d.get('end')}) is empty",
        }.get(op)
    if family == "proc":
        if op == "state":
            return obj + _details(d)
        if op == "spawn":
            return f"started as {d.get('role', 'process')} by pid {d.get('ppid')}"
        if op == "start":
            # A watched program's process says it is up twice: as soon as the
            # interpreter runs (silent here), then as the process it was started as.
            return "is up" if d.get("label") else ""
        if op == "exit":
            if d.get("signal"):
                return f"killed by {d['signal']}"
            return "exited" if d.get("code") == 0 else f"exited with code {d.get('code')}"
        if op == "error":
            return f"failed: {d.get('error', '')}"
        if op == "join":
            return f"waits for {obj} (pid {d.get('child')}) to end: join()"
        if op == "joined":
            return f"{obj} ended: join() returns" if d.get("ended") else f"stopped waiting for {obj}"
        if op == "output":
            return ("prints: " if d.get("stream") != "err" else "stderr: ") + str(d.get("text", ""))
        if op == "lost":
            return f"{d.get('n')} records lost: the dashboard could not take them in time"
        if op == "signal":
            return {"SIGSTOP": "paused (SIGSTOP)", "SIGCONT": "resumed (SIGCONT)"}.get(obj, f"got {obj}")
        return None
    if family == "prim" and op == "new":
        where = f" at {d['site']}" if d.get("site") else ""
        return f"created {FAMILY_WORDS.get(str(d.get('kind')), d.get('kind'))} '{obj}'{where}"
    if family == "data":
        if "text" in d:  # the lesson's own words for what it saw
            return str(d["text"])
        if "error" in d:
            return f"{obj}: {d['error']}"
        return f"{obj}: " + ", ".join(f"{k}={v}" for k, v in d.items())
    if family == "ui":
        if op == "error":
            return f"mpviz: {obj} failed: {d.get('error', '')}"
        return f"you: {obj}{_details(d)}"
    if family == "note":
        return obj
    return None


def describe(event: Event, obj: str | None = None) -> str | None:
    """The event in words, or None for records not worth a line (stats samples).

    ``obj`` is the display name of the primitive the record is about (the
    model's, for an id); the record's own ``obj`` if not given.
    """
    if event.kind in ("proc.stats", "proc.stdio", "proc.sleep", "proc.slept"):
        return None
    name = event.obj if obj is None else obj
    words = _phrase(event, name)
    if words == "":
        return None
    return words or f"{event.kind} {name}{_details(event.data)}"


def line(event: Event, t0: int, who: str, obj: str | None = None) -> str | None:
    """One log line: seconds since start, pid, actor, what happened."""
    words = describe(event, obj)
    if words is None:
        return None
    return f"{(event.t_ns - t0) / 1e9:8.3f}  {event.pid:>7}  {who:<14} {words}"
