"""Managers: multiprocessing's own, any of them, every call through a proxy seen.

``multiprocessing.managers`` itself is instrumented where it is loaded
(:func:`instrument`; a watched program's processes do it as the program
imports it, see :func:`mpviz.sync.context.instrument_multiprocessing`), so
that ``multiprocessing.Manager()``, a program's own ``BaseManager`` subclass
and every kind of proxy (``dict``, ``list``, ``Namespace``, ``Lock``, a
``Manager().Queue()``, a program's own proxy type) are seen, with their
classes, reprs and pickling multiprocessing's:

* a manager is named after the variable it is assigned to, and said to exist
  (``prim.new``, kind "manager") when it starts; its id is its server's
  address, so every process that holds one of its proxies names it alike;
* a proxy is named after its variable where it was made (``d =
  manager.dict()``: "d"), and carries that name to the processes it is
  passed to;
* every call through a proxy, in the process that makes it:
  ``manager.call {"typeid", "method", "proxy"}`` (``"error"``: the
  exception's name, when it raised), stamped when the call was made;
* a value got through a proxy (``d["k"]``) and changed at once
  (``.append(…)``): the change is lost with the copy
  (``pitfall.proxy_copy {"proxy", "typeid", "via", "method", "key", "type"}``,
  with its line; see :mod:`mpviz.sync.copies`);
* in a scheduled run, every call through a proxy is a scheduling point
  (:func:`_point`), taken before the call is sent: the server answers the
  program's processes in the order the schedule lets them call, so that two
  processes' ``d["n"]`` reads can both come before either's write (a lost
  update).  A proxied Lock's or RLock's acquire and release are that lock's
  (the scheduler knows who holds it); any other call never blocks as far as
  the scheduler knows (a proxied queue's ``get`` that waits in the server
  waits there, unseen, and runs free after ``--step-timeout``);
* a call that may wait for another process (a proxied Event's ``wait``, a
  Lock's, RLock's, Semaphore's or Condition's ``acquire`` (``with`` too), a
  Condition's or a Barrier's ``wait``, a queue's blocking ``get``, ``put`` and
  ``join``) is said before it is made: ``manager.wait {"typeid", "method",
  "proxy", "family", "manager"}`` with its line, on the proxied object's id
  (its server's address and the object's id there: the same in every process
  that holds a proxy of it); its ``manager.call``, stamped when it returns,
  ends that wait.  The model sees it as a wait on that object (named after the
  proxy), the way it sees a wait on one of mpviz's own primitives.

Its server is a process of the run (our contexts start it).  Not seen: what
the server's objects hold, and who holds a proxied Lock (only who waits for it).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

from mpviz.sync import turns
from mpviz.sync.base import timed, unseen
from mpviz.sync.copies import CHANGERS, GETTERS, changed_at_once, key_words, once
from mpviz.sync.naming import name_and_site
from mpviz.sync.sites import say, site_above
from mpviz.sync.turns import EXPIRE, GO, resume, turn
from mpviz.telemetry import MAX_TEXT, emit, now_ns

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from typing import Any

_done = False
# Calls through a proxy whose first argument is the attribute they read or write (a Namespace's).
_ATTRIBUTES = ("__getattribute__", "__setattr__", "__delattr__")
# SyncManager's kinds of objects whose calls may wait, by typeid: the model's family of each.
_FAMILIES = {
    "Event": "event",
    "Lock": "lock",
    "RLock": "rlock",
    "Semaphore": "sem",
    "BoundedSemaphore": "sem",
    "Condition": "cond",
    "Barrier": "barrier",
    "Queue": "queue",
    "JoinableQueue": "queue",
}
# multiprocessing's proxy types (not in typeshed) and their families; a Condition's before a Lock's (it is one).
_PROXIES = (("EventProxy", "event"), ("ConditionProxy", "cond"), ("AcquirerProxy", "lock"), ("BarrierProxy", "barrier"))
# The methods that may wait, by family.
_WAITING = {
    "event": ("wait",),
    "lock": ("acquire",),
    "rlock": ("acquire",),
    "sem": ("acquire",),
    "cond": ("acquire", "wait"),
    "barrier": ("wait",),
    "queue": ("get", "put", "join"),
}


def instrument() -> None:
    """Instrument ``multiprocessing.managers`` in this process (once)."""
    global _done
    if _done:
        return
    _done = True
    # Here, not at the top: a proxy unpickled in a child imports this module, and that
    # import of multiprocessing.managers is what instruments it (see context.py).
    from multiprocessing import managers

    base, proxy = managers.BaseManager, managers.BaseProxy
    base.__init__ = _patched(base.__init__, _manager_made)  # type: ignore[method-assign]
    base.start = _patched(base.start, _manager_started)  # type: ignore[method-assign]
    base.connect = _patched(base.connect, _manager_started)  # type: ignore[method-assign]
    proxy.__init__ = _patched(proxy.__init__, _proxy_made)  # type: ignore[method-assign]
    proxy._callmethod = _calling(proxy._callmethod)  # type: ignore[method-assign]
    proxy.__reduce__ = _reducing(proxy.__reduce__)  # type: ignore[method-assign,assignment]


def start(ctx: Any, name: str | None) -> Any:
    """``multiprocessing.Manager()`` on the context ``ctx``: a started SyncManager (named ``name``, if given)."""
    from multiprocessing import managers

    instrument()
    manager = managers.SyncManager(ctx=ctx)
    if name is not None:
        manager._mpviz_name = name  # type: ignore[attr-defined]
    manager.start()
    return manager


def manager_id(address: object) -> str:
    """A manager's id in the records: its server's address, the same in every process."""
    return f"manager {address}"


def _patched(method: Callable[..., Any], then: Callable[..., None]) -> Callable[..., Any]:
    """``method`` (multiprocessing's), then ``then`` with the same arguments; failing as ``method`` alone would."""

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = method(self, *args, **kwargs)
        except BaseException as exc:
            unseen(exc)
            raise
        then(self, *args, **kwargs)
        return result

    return call


def _manager_made(manager: Any, *args: Any, **kwargs: Any) -> None:
    manager._mpviz_name, manager._mpviz_site = name_and_site("manager", None)


def _manager_started(manager: Any, *args: Any, **kwargs: Any) -> None:
    facts = {"kind": "manager", "name": getattr(manager, "_mpviz_name", "manager")}
    facts["site"] = getattr(manager, "_mpviz_site", "")
    server = getattr(manager, "_process", None)
    if server is not None and server.pid is not None:
        facts["server"] = server.pid
    emit("prim.new", manager_id(manager.address), facts)


def _proxy_made(proxy: Any, token: Any, serializer: Any, manager: Any = None, *args: Any, **kwargs: Any) -> None:
    """Named where a manager made it for the program (unpickled, it gets its name from its reduction)."""
    proxy._mpviz_name = name_and_site("proxy", None)[0] if manager is not None else ""


def proxied_id(token: Any) -> str:
    """A proxied object's id in the records: its server's address and its id there."""
    return f"proxy {token.address} {token.id}"


def _family(proxy: Any) -> str:
    """The model's family of what a proxy stands for ("" if none of its calls waits): by its
    typeid (SyncManager's), else by what it exposes (a program's own manager's ``queue.Queue``)."""
    from multiprocessing import managers

    family = _FAMILIES.get(str(proxy._token.typeid))
    if family is not None:
        return family
    for proxy_type, family in _PROXIES:  # a program's own typeid with multiprocessing's proxy type
        if isinstance(proxy, getattr(managers, proxy_type)):
            return family
    exposed = getattr(proxy, "_exposed_", None) or ()
    return "queue" if {"get", "put", "qsize"} <= set(exposed) else ""


def _may_wait(proxy: Any, method: str, args: tuple[Any, ...], kwds: dict[str, Any]) -> str:
    """The proxied object's family if this call may wait for another process ("" if it cannot:
    not a waiting method, or told not to block: ``acquire(False)``, ``get(block=False)``)."""
    family = _family(proxy)
    if method not in _WAITING.get(family, ()):
        return ""
    if method == "acquire":
        blocking = kwds.get("blocking", args[0] if args else True)
    elif method == "get":
        blocking = kwds.get("block", args[0] if args else True)
    elif method == "put":
        blocking = kwds.get("block", args[1] if len(args) > 1 else True)
    else:
        blocking = True
    return family if blocking else ""


def _timeout(method: str, args: tuple[Any, ...], kwds: dict[str, Any]) -> Any:
    """The timeout of a call that may wait, as its proxy passes it on (None: none)."""
    if "timeout" in kwds:
        return kwds["timeout"]
    at = {"wait": 0, "acquire": 1, "get": 1, "put": 2}.get(method)  # wait(timeout), get(block, timeout) …
    return args[at] if at is not None and len(args) > at else None


# A proxied queue's calls that move an item: counted as the queue's puts and gets.
_QUEUE_OPS = frozenset(("put", "put_nowait", "get", "get_nowait"))


def _calling(callmethod: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callmethod)
    def call(self: Any, methodname: str, args: tuple[Any, ...] = (), kwds: dict[str, Any] | None = None) -> Any:
        kwds = {} if kwds is None else kwds
        token = self._token
        facts = {"typeid": str(token.typeid), "method": methodname, "proxy": getattr(self, "_mpviz_name", "")}
        if methodname in _ATTRIBUTES and args and isinstance(args[0], str):
            facts["attr"] = args[0][:MAX_TEXT]  # ns.value: which attribute
        manager = manager_id(token.address)
        if methodname in _QUEUE_OPS and _family(self) == "queue":
            facts["of"] = proxied_id(token)  # an item into or out of that queue, counted there
        family = _may_wait(self, methodname, args, kwds)
        caller = sys._getframe(1)
        if caller.f_code.co_filename == "<string>" and caller.f_code.co_name == methodname:
            caller = caller.f_back or caller  # a proxy's method (a dict's __getitem__, a queue's get): made by exec
        answer = _point(self, methodname, args, kwds, caller) if turns.on else GO
        if answer == EXPIRE:
            return False  # a timed acquire that would block: it times out at once (a scheduled run's every timed wait)
        if family:
            # Said before it may wait, with its line; its manager.call, when it returns, ends it.
            waits = timed({**facts, "family": family, "manager": manager}, _timeout(methodname, args, kwds))
            say("manager.wait", proxied_id(token), waits, above=caller)
            t = None
        else:
            t = now_ns()
        try:
            result = callmethod(self, methodname, args, kwds)
        except BaseException as exc:
            say("manager.call", manager, {**facts, "error": type(exc).__name__}, t_ns=t)
            resume(answer, proxied_id(token), "manager.call")
            unseen(exc)
            raise
        say("manager.call", manager, facts, t_ns=t)
        resume(answer, proxied_id(token), "manager.call")
        if methodname in GETTERS and type(result) in CHANGERS:
            _copy_changed(self, methodname, args, result, facts)
        return result

    return call


# The proxied objects whose holder the scheduler keeps (World), by typeid: their acquire and release are
# that lock's points.  (A Semaphore's value, a Condition's lock the scheduler cannot know from the calls.)
_HELD = {"Lock": "lock", "RLock": "rlock"}


def _point(proxy: Any, method: str, args: tuple[Any, ...], kwds: dict[str, Any], caller: Any) -> bytes:
    """The scheduling point before a call through ``proxy``: ``lock.acquire`` / ``release`` for a
    proxied Lock or RLock (``block`` and ``timeout`` as the call's); ``proxy.METHOD`` for any other
    call (``proxy.__getitem__`` on "d"), which the scheduler never holds back."""
    token = proxy._token
    typeid = str(token.typeid)
    data: dict[str, Any] = {"proxy": getattr(proxy, "_mpviz_name", "") or typeid}
    at = site_above(caller)
    if at:
        data["at"] = at  # the program's line (the proxy's method, made by exec, has none)
    family = _HELD.get(typeid, "")
    if family and method in ("acquire", "release"):
        data["family"] = family
        if method == "acquire":
            data["block"] = bool(kwds.get("blocking", args[0] if args else True))
            timeout = _timeout(method, args, kwds)
            if timeout is not None and timeout >= 0:
                data["timeout"] = float(timeout)
        return turn(f"{family}.{method}", proxied_id(token), data)
    return turn(f"proxy.{method}", proxied_id(token), data)


def _copy_changed(proxy: Any, via: str, args: tuple[Any, ...], value: Any, facts: dict[str, Any]) -> None:
    """Say it if the caller changes at once the copy ``value`` a proxy's ``via`` gave it (see copies.py)."""
    caller = sys._getframe(2)  # (its caller: a proxy's method, made by exec, or the program's own)
    if caller.f_code.co_filename == "<string>" and caller.f_code.co_name == via:
        caller = caller.f_back or caller
    method = changed_at_once(caller, via, value)
    if method and once(caller):
        said = {**facts, "via": via, "method": method, "key": key_words(args), "type": type(value).__name__}
        say("pitfall.proxy_copy", manager_id(proxy._token.address), said, above=caller)


def _reducing(reduce: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(reduce)
    def call(self: Any) -> Any:
        rebuild, (make, token, serializer, kwds) = reduce(self)
        make = functools.partial(_named, make, getattr(self, "_mpviz_name", ""))
        return rebuild, (make, token, serializer, kwds)

    return call


def _named(make: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
    """A proxy rebuilt in another process, under the name it had where it was made; and
    reporting there, whether that process instrumented multiprocessing or not (a lesson's)."""
    instrument()
    proxy = make(*args, **kwargs)
    proxy._mpviz_name = name
    return proxy
