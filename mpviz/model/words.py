"""What each record says, in English or the tutorial's Chinese: the phrases of the log's lines
(:mod:`mpviz.model.lines` makes the lines) and of the views.

A lesson's own words (a ``proc.state``, a note, a ``data.value`` text) are
English in the record; :func:`spoken` gives them in the current language
(``mpviz.lang``) and fills their ``{placeholders}`` from the record's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import Any

from mpviz import lang
from mpviz.lang import T
from mpviz.shown import SGR, visible
from mpviz.telemetry import Event


def spoken(words: str, data: Mapping[str, Any]) -> tuple[str, set[str]]:
    """A lesson's words in the current language, their placeholders filled from ``data``; and the keys used."""
    text = lang.word(words)
    if "{" not in text:
        return text, set()
    try:
        keys = {name for _, name, _, _ in Formatter().parse(text) if name}
        return text.format_map(data), keys
    except (KeyError, ValueError, IndexError, AttributeError):
        return text, set()  # not a template after all: the words as they are


def said(state: str, data: Mapping[str, Any]) -> str:
    """What a process said, as its state: the words, without the data they do not name."""
    return spoken(state, data)[0]


# A wait with a timeout: it ends by itself, whatever the other processes do.
TIMED = T("{words} (gives up after {s})", "{words}(最多等 {s})")


def timeout_of(event: Event) -> float | None:
    """The timeout of the wait a record begins, in seconds (None: none, it waits until another ends it)."""
    timeout = event.data.get("timeout")
    if (type(timeout) is int or type(timeout) is float) and 0 <= timeout < 2**53:  # (a recording's, unchecked)
        return float(timeout)
    return None


def timed(words: str, timeout: float) -> str:
    """A wait's words with its timeout: ``… (gives up after 4 s)`` (a get's 3.995 s, what is left
    after its first glance, is 4 s)."""
    s = f"{timeout:.0f}" if timeout >= 10 else f"{timeout:.2g}"
    return TIMED(words=words, s=f"{s} s")


# Each kind of primitive (a record's family) in words: ``Prim.word``, and the lines below.
FAMILY_WORDS = {
    "lock": T("lock", "锁"),
    "rlock": T("rlock", "可重入锁"),
    "sem": T("semaphore", "信号量"),
    "cond": T("condition", "条件变量"),
    "event": T("event", "事件"),
    "barrier": T("barrier", "屏障"),
    "queue": T("queue", "队列"),
    "pipe": T("pipe", "管道"),
    "value": T("value", "共享值"),
    "array": T("array", "共享数组"),
    "pool": T("pool", "进程池"),
    "manager": T("manager", "管理器"),
}


VALUE = T(" (value {value}/{of})", " (值 {value}/{of})")
SIGNAL_VALUE = T(" (value {value})", " (值 {value})")


def _value(data: dict[str, Any]) -> str:
    if "value" in data and data.get("of"):
        return VALUE(value=data["value"], of=data["of"])
    if "value" in data:  # a semaphore that started at 0: a signal, not a count of free places
        return SIGNAL_VALUE(value=data["value"])
    return ""


def details(data: dict[str, Any], skip: set[str] | None = None) -> str:
    shown = [f"{k}={v}" for k, v in data.items() if v is not None and v != "" and k not in (skip or ())]
    return f" ({', '.join(shown)})" if shown else ""


ACQ = {
    "wait": T("waits for {what}{value}", "等待{what}{value}"),
    "acquired": T("acquired {what}{value}", "获得了{what}{value}"),
    "released": T("released {what}{value}", "释放了{what}{value}"),
    "timeout": T("gave up waiting for {what}", "不再等待{what}"),
}
EVENT = {
    "set": T("set event '{obj}' (flag True)", "set 事件 '{obj}'(Flag 设为 True)"),
    "clear": T("cleared event '{obj}' (flag False)", "clear 事件 '{obj}'(Flag 设为 False)"),
    "wait": T("waits for event '{obj}' (flag False)", "wait 事件 '{obj}':Flag 为 False,阻塞"),
    "timeout": T("gave up waiting for event '{obj}'", "不再等待事件 '{obj}'"),
}
WOKE = T("woke: event '{obj}' is set", "醒来:事件 '{obj}' 已 set")
PASSED = T("found event '{obj}' set, goes on", "事件 '{obj}' 已 set,wait() 不阻塞,继续")
END_SIGNAL = T(" (end signal)", "(结束信号)")
QUEUE = {
    "put": T("put '{item}' into queue '{obj}'", "把 '{item}' 放入队列 '{obj}'"),
    "get": T("got '{item}' from queue '{obj}'", "从队列 '{obj}' 取出 '{item}'"),
    "get_blocked": T("blocked on get: queue '{obj}' is empty", "get 阻塞:队列 '{obj}' 是空的"),
    "put_blocked": T("blocked on put: queue '{obj}' is full", "put 阻塞:队列 '{obj}' 已满"),
    "timeout": T("gave up on {op} from queue '{obj}'", "队列 '{obj}' 的 {op} 超时,不再等待"),
    "task_done": T("marked a task done on queue '{obj}'", "在队列 '{obj}' 上标记一个任务完成"),
    "join_wait": T("joins queue '{obj}': waits until each item is marked done", "等待队列 '{obj}' 的任务全部完成"),
    "joined": T("every item of queue '{obj}' is marked done", "队列 '{obj}' 的任务全部完成"),
}
COND = {
    "wait": T("waits on condition '{obj}' (its lock let go)", "在条件变量 '{obj}' 上等待(先放开它的锁)"),
    "woke": T("woke on condition '{obj}' (its lock taken back)", "在条件变量 '{obj}' 上醒来(重新拿到锁)"),
    "timeout": T("gave up waiting on condition '{obj}'", "不再等待条件变量 '{obj}'"),
    "notify": T("notified condition '{obj}'{n}", "通知条件变量 '{obj}'{n}"),
    "notify_all": T("notified every waiter of condition '{obj}'", "通知条件变量 '{obj}' 的所有等待者"),
}
BARRIER = {
    "wait": T("arrived at barrier '{obj}' ({n} of {parties} waiting)", "到达屏障 '{obj}'({parties} 个中 {n} 个在等)"),
    "pass": T("passed barrier '{obj}'", "通过屏障 '{obj}'"),
    "broken": T("barrier '{obj}' is broken", "屏障 '{obj}' 已损坏"),
    "abort": T("aborted barrier '{obj}'", "中止屏障 '{obj}'"),
    "reset": T("reset barrier '{obj}'", "重置屏障 '{obj}'"),
}
POOL = {
    "task": T("handed {n} {tasks} of {func} to pool '{obj}'", "把 {n} 个 {func} 任务交给进程池 '{obj}'"),
    "result": T("got {n} {results} from pool '{obj}'", "从进程池 '{obj}' 取回 {n} 个结果"),
    "failed": T("got {n} failed {results} from pool '{obj}'{error}", "从进程池 '{obj}' 取回 {n} 个失败的结果{error}"),
    "run": T("runs a task of {func} from pool '{obj}'", "运行进程池 '{obj}' 的一个 {func} 任务"),
    "done": T("finished a task of {func} from pool '{obj}'", "完成进程池 '{obj}' 的一个 {func} 任务"),
    "wait": T("waits for results from pool '{obj}'", "等待进程池 '{obj}' 的结果"),
    "woke": T("got results from pool '{obj}'", "拿到进程池 '{obj}' 的结果"),
    "gave_up": T("gave up waiting for results from pool '{obj}'", "不再等待进程池 '{obj}' 的结果"),
    "woke_failed": T("got an error instead of results from pool '{obj}'", "从进程池 '{obj}' 拿到的是错误,不是结果"),
    "terminate": T("terminates pool '{obj}'{left}", "终止进程池 '{obj}'{left}"),
}
# A pool terminated with tasks handed out and not done (their results are lost).
NOT_DONE = T(" with {n} {tasks} not done", "(还有 {n} 个任务没做完)")
MANAGER = T("{call} through manager '{obj}'{error}", "通过管理器 '{obj}' 调用 {call}{error}")
MANAGER_WAIT = T("waits in {call} on {word} '{obj}' (a Manager's)", "在管理器的{word} '{obj}' 上等待:{call}")
RAISED = T(" (raised {error})", "(抛出 {error})")
# A call through a proxy as the program wrote it ("{0}" is the proxy, "{1}" the attribute).
CALLS = {
    "__getitem__": "{0}[…]",
    "__setitem__": "{0}[…] = …",
    "__delitem__": "del {0}[…]",
    "__len__": "len({0})",
    "__contains__": "… in {0}",
    "__iter__": "iter({0})",
    "__next__": "next({0})",
    "__repr__": "repr({0})",
    "__str__": "str({0})",
    "__getattribute__": "{0}.{1}",
    "__setattr__": "{0}.{1} = …",
    "__delattr__": "del {0}.{1}",
    "#GETVALUE": "a copy of {0}",
}


def proxy_name(data: Mapping[str, Any]) -> str:
    """A proxy as a person reads it: its variable and its type ("d (dict)"), or its type alone."""
    typeid = str(data.get("typeid", "?"))
    return f"{data['proxy']} ({typeid})" if data.get("proxy") else typeid


def proxy_call(data: Mapping[str, Any]) -> str:
    """A call through a proxy, as the program wrote it: ``d[…] = …``, ``ns.value``, ``lock.acquire(…)``."""
    proxy = str(data.get("proxy") or data.get("typeid", "?"))
    method = str(data.get("method", "?"))
    form = CALLS.get(method, "{0}." + method + "(…)")
    return form.format(proxy, data.get("attr") or "…")


PIPE = {
    "send": T("sent '{item}' through pipe '{obj}' (end {end})", "通过管道 '{obj}' 发送 '{item}'(端 {end})"),
    "recv": T("received '{item}' from pipe '{obj}' (end {end})", "从管道 '{obj}' 收到 '{item}'(端 {end})"),
    "recv_blocked": T("blocked on recv: pipe '{obj}' (end {end}) is empty", "recv 阻塞:管道 '{obj}'(端 {end})是空的"),
}
PROC = {
    "spawn": T("started as {role} by pid {ppid}", "由 pid {ppid} 启动,身份:{role}"),
    "up": T("is up", "已启动"),
    "killed": T("killed by {signal}", "被 {signal} 杀死"),
    "terminate": T("sends {signal} to {obj}", "向 {obj} 发送 {signal}"),
    "exited": T("exited", "已退出"),
    "ended": T("ended (how, nobody could tell)", "已结束(无从得知怎样结束)"),
    "exited_code": T("exited with code {code}", "已退出,退出码 {code}"),
    "error": T("failed: {error}", "出错:{error}"),
    "join": T("waits for {obj} (pid {child}) to end: join()", "join():等待 {obj}(pid {child})结束"),
    "join_thread": T("waits for thread '{obj}' to end: join()", "join():等待线程 '{obj}' 结束"),
    "joined": T("{obj} ended: join() returns", "{obj} 已结束:join() 返回"),
    "join_gave_up": T("stopped waiting for {obj}", "不再等待 {obj}"),
    "prints": T("prints: ", "打印:"),
    "lost": T("{n} records lost: the dashboard could not take them in time", "丢失 {n} 条记录:面板来不及接收"),
    "SIGSTOP": T("paused (SIGSTOP)", "已暂停(SIGSTOP)"),
    "SIGCONT": T("resumed (SIGCONT)", "已继续(SIGCONT)"),
    "signal": T("got {obj}", "收到 {obj}"),
    # A lesson's main part with nothing left to do (``proc.idle``): it waits for the user's keys, if any.
    "idle": T("idle: its part is done", "空闲:它那部分已做完"),
    "idle_keys": T("idle: waits for your keys", "空闲:等你按键"),
}


def idle(data: Mapping[str, Any]) -> str:
    """A ``proc.idle`` record in words."""
    return str(PROC["idle_keys" if data.get("keys") is True else "idle"])


# What a process is seen doing from outside (``proc.seen``: an attached program's stacks).
SEEN = {
    "running": T("running", "运行中"),
    "sleep": T("sleeping", "睡眠中"),
    "foreign": T("not Python: its stack cannot be read", "不是 Python 进程:读不到它的调用栈"),
    "join": T("joining {name}", "等待 {name} 结束"),
    "join_some": T("joining a child", "等待一个子进程结束"),
    "wait": T("waiting in {what}", "等待 {what}"),
    "at": T("{words} at {site}", "{words}({site})"),
    "child": T("{name} (pid {pid})", "{name}(pid {pid})"),
}


def seen(data: Mapping[str, Any], child: str = "") -> str:
    """What a ``proc.seen`` record says the process does, in words: ``waiting in multiprocessing
    Queue.get at consumer.py:9 in consume``.  ``child``: the joined child's name, if known."""
    kind = data.get("kind")
    if kind in ("running", "sleep", "foreign"):
        words = str(SEEN[str(kind)])
    elif kind == "join" and type(data.get("child")) is int:
        pid = data["child"]
        words = SEEN["join"](name=SEEN["child"](name=child, pid=pid) if child else f"pid {pid}")
    elif kind == "join":
        words = str(SEEN["join_some"])
    else:
        words = SEEN["wait"](what=data.get("what") or kind)
    site = data.get("site")
    return SEEN["at"](words=words, site=site) if site else words


# What the run refused (``run.refused``, and the model's own count of primitives past its limit).
REFUSED = {
    "forged": T(
        "refused {n} records that named a process other than their sender",
        "拒绝了 {n} 条冒充其他进程的记录",
    ),
    "foreign": T(
        "refused {n} connections from processes not of the run",
        "拒绝了 {n} 个不属于本次运行的进程的连接",
    ),
    "connections": T(
        "refused {n} connections past the run's limit",
        "超出本次运行的上限,拒绝了 {n} 个连接",
    ),
    "primitives": T(
        "{n} primitives past the limit of {limit} not shown",
        "超出上限 {limit} 的 {n} 个同步原语没有显示",
    ),
}


def refusal(what: str, n: int, limit: int = 0) -> str:
    words = REFUSED.get(what)
    return words(n=n, limit=limit) if words is not None else f"refused {n} {what}"


CREATED = T("created {kind} '{obj}'{where}", "创建了{kind} '{obj}'{where}")
AT = T(" at {site}", "({site})")
UI_ERROR = T("mpviz: {obj} failed: {error}", "mpviz:{obj} 失败:{error}")
YOU = T("you: {obj}{details}", "你:{obj}{details}")


def phrase(event: Event, obj: str, colours: bool = False) -> str | None:
    kind, d = event.kind, event.data
    family, _, op = kind.partition(".")
    if family in ("lock", "rlock", "sem"):
        acq = ACQ.get(op)
        return acq(what=f"{lang.words_for(family, FAMILY_WORDS)} '{obj}'", value=_value(d)) if acq else None
    if family == "event":
        if op == "woke":
            return (WOKE if d.get("waited") else PASSED)(obj=obj)
        return EVENT[op](obj=obj) if op in EVENT else None
    if family == "queue":
        words = QUEUE.get(op)
        if words is None:
            return None
        text = words(item=d.get("item", ""), obj=obj, op=d.get("op", "get"))
        return text + (str(END_SIGNAL) if op in ("put", "get") and d.get("none") else "")
    if family == "cond":
        n = f" ({d['n']})" if d.get("n", 1) != 1 else ""
        return COND[op](obj=obj, n=n) if op in COND else None
    if family == "barrier":
        return BARRIER[op](obj=obj, n=d.get("n_waiting", "?"), parties=d.get("parties", "?")) if op in BARRIER else None
    if family == "pool":
        if op in ("wait_task", "got_task"):
            return ""  # a worker between two tasks: its state says it, a line each time would drown the log
        n = d.get("n", 1)
        plural = {"tasks": "task" if n == 1 else "tasks", "results": "result" if n == 1 else "results"}
        if op == "woke" and d.get("gave_up"):
            op = "gave_up"  # its timeout: nothing came
        elif op == "woke" and d.get("failed"):
            op = "woke_failed"  # a task raised, or could not be sent: get() raises it
        if op == "terminate":
            left = d.get("outstanding")
            not_done = (
                NOT_DONE(n=left, tasks="task" if left == 1 else "tasks") if isinstance(left, int) and left else ""
            )
            return POOL[op](obj=obj, left=not_done)
        if op == "result" and d.get("ok") is False:  # the task raised (or its future was cancelled)
            op, error = "failed", f" ({d['error']})" if d.get("error") else ""
            return POOL[op](obj=obj, n=n, error=error, **plural)
        return POOL[op](obj=obj, n=n, func=d.get("func", "?"), **plural) if op in POOL else None
    if family == "pipe":
        return PIPE[op](obj=obj, item=d.get("item", ""), end=d.get("end")) if op in PIPE else None
    if kind == "manager.wait":
        word = lang.words_for(str(d.get("family", "")), FAMILY_WORDS)
        return MANAGER_WAIT(call=proxy_call(d), word=word, obj=obj)
    if kind == "manager.call":
        error = RAISED(error=d["error"]) if d.get("error") else ""
        return MANAGER(call=proxy_call(d), obj=obj, error=error)
    if family == "proc":
        return _proc(op, obj, d, colours)
    if family == "turn":
        return _turn(op, d)
    if family == "prim" and op == "new":
        where = AT(site=d["site"]) if d.get("site") else ""
        return CREATED(kind=lang.words_for(str(d.get("kind")), FAMILY_WORDS), obj=obj, where=where)
    if family == "data":
        if "text" in d:  # the lesson's own words for what it saw
            return spoken(str(d["text"]), d)[0]
        if "error" in d:
            return f"{obj}: {d['error']}"
        return f"{obj}: " + ", ".join(f"{k}={v}" for k, v in d.items())
    if family == "ui":
        if op == "error":
            return UI_ERROR(obj=obj, error=d.get("error", ""))
        return YOU(obj=lang.word(obj), details=details(d))
    if family == "note":
        return spoken(obj, d)[0]
    if family == "run" and op == "refused":
        return refusal(obj, int(d.get("n", 0)))
    return None


def _proc(op: str, obj: str, d: dict[str, Any], colours: bool = False) -> str | None:
    if op == "state":
        text, used = spoken(obj, d)
        return text + details(d, used)
    if op == "spawn":
        return PROC["spawn"](role=lang.word(str(d.get("role", "process"))), ppid=d.get("ppid"))
    if op == "start":
        # A watched program's process says it is up twice: as soon as the
        # interpreter runs (silent here), then as the process it was started as.
        return str(PROC["up"]) if d.get("label") else ""
    if op == "exit":
        if d.get("signal"):
            return PROC["killed"](signal=d["signal"])
        if d.get("code") is None:
            return str(PROC["ended"])
        return str(PROC["exited"]) if d.get("code") == 0 else PROC["exited_code"](code=d.get("code"))
    if op == "error":
        return PROC["error"](error=d.get("error", ""))
    if op == "join":
        if d.get("thread"):
            return PROC["join_thread"](obj=obj)
        return PROC["join"](obj=lang.label(obj), child=d.get("child"))
    if op == "joined":
        return PROC["joined" if d.get("ended") else "join_gave_up"](obj=lang.label(obj))
    if op == "idle":
        return idle(d)
    if op == "ran":
        return ""  # its target returned: its exit, a moment later, says it
    if op == "output":
        if d.get("partial"):
            return ""  # a line still being written: said once, when it ends
        # As printed, control characters made visible; its colours kept for a terminal, else left out.
        text = str(d.get("text", ""))
        text = visible(text, colours=True) if colours else visible(SGR.sub("", text))
        return (str(PROC["prints"]) if d.get("stream") != "err" else "stderr: ") + text
    if op == "lost":
        return PROC["lost"](n=d.get("n"))
    if op == "terminate":  # (obj: the child's name)
        return PROC["terminate"](obj=obj, signal=d.get("signal") or "SIGTERM")
    if op == "seen":
        return seen(d, obj)  # obj: the joined child's name, when there is one
    if op == "signal":
        return str(PROC[obj]) if obj in ("SIGSTOP", "SIGCONT") else PROC["signal"](obj=obj)
    return None


# What a process waiting at a scheduling point is about to do (a scheduled run's ``turn.*``).
TURN_OPS = {
    "acquire": T("acquire {word} '{what}'", "获取{word} '{what}'"),
    "release": T("release {word} '{what}'", "释放{word} '{what}'"),
    "proc.start": T("start {what}", "启动 {what}"),
    "proc.run": T("begin its target", "开始运行"),
    "proc.join": T("join {what}", "join {what}"),
    "proc.terminate": T("terminate {what}", "终止 {what}"),
    "proc.kill": T("kill {what}", "杀掉 {what}"),
    "proc.sleep": T("sleep", "sleep"),
    "queue.put": T("put into queue '{what}'", "往队列 '{what}' 里放"),
    "queue.get": T("get from queue '{what}'", "从队列 '{what}' 里取"),
    "queue.join": T("wait until queue '{what}' is done", "等队列 '{what}' 的每一项做完"),
    "queue.task_done": T("mark an item of queue '{what}' done", "标记队列 '{what}' 的一项做完了"),
    "pipe.send": T("send on pipe '{what}'", "往管道 '{what}' 发送"),
    "pipe.recv": T("receive on pipe '{what}'", "从管道 '{what}' 接收"),
    "event.set": T("set event '{what}'", "set 事件 '{what}'"),
    "event.clear": T("clear event '{what}'", "clear 事件 '{what}'"),
    "event.wait": T("wait for event '{what}'", "等事件 '{what}'"),
    "cond.wait": T("wait on condition '{what}'", "在条件变量 '{what}' 上等"),
    "cond.notify": T("notify condition '{what}'", "通知条件变量 '{what}'"),
    "barrier.wait": T("wait at barrier '{what}'", "在屏障 '{what}' 等"),
    "barrier.abort": T("abort barrier '{what}'", "中止屏障 '{what}'"),
    "barrier.reset": T("reset barrier '{what}'", "重置屏障 '{what}'"),
    "resume": T("go on after its wait", "等完了,继续"),
}
TURN_PROXY = T("call {call} through its manager", "通过管理器调用 {call}")
TURN = {
    "go": T("goes: {doing}", "轮到它:{doing}"),
    "free": T(
        "runs free: it did not come back to a point in time, it runs beside the others",
        "自由运行:它没有按时回到调度点,和其他进程一起跑",
    ),
    "stuck": T("nobody can go on: each one goes into its wait", "谁都走不了:每个都进入自己的等待"),
    "at": T("{doing} at {at}", "{doing}({at})"),
}


def doing(op: str, what: str, at: str = "") -> str:
    """What a process at a scheduling point is about to do, in words: ``acquire lock 'ticket' at ticket.py:18``."""
    family, _, verb = op.partition(".")
    if family in ("lock", "rlock", "sem") and verb in TURN_OPS:
        words = TURN_OPS[verb](word=lang.words_for(family, FAMILY_WORDS), what=what)
    elif op in TURN_OPS:
        words = TURN_OPS[op](what=what)
    elif family == "proxy" and verb:  # a call through a Manager's proxy, as the program wrote it
        call = CALLS.get(verb, "{0}.{1}()").format(what or "?", verb)
        words = TURN_PROXY(call=call)
    else:
        words = f"{op} '{what}'" if what else op
    return TURN["at"](doing=words, at=at) if at else words


def _turn(op: str, d: dict[str, Any]) -> str | None:
    if op == "go":
        return TURN["go"](doing=doing(str(d.get("op", "")), str(d.get("what", "")), str(d.get("at", ""))))
    return str(TURN[op]) if op in ("free", "stuck") else None
