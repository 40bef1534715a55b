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
  exception's name, when it raised), stamped when the call was made.

Its server is a process of the run (our contexts start it).  Not seen: what
the server's objects hold, and who waits inside them (the server's threads
wait for a manager's Lock or Queue, not the caller).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from mpviz.sync.base import unseen
from mpviz.sync.naming import name_and_site
from mpviz.sync.sites import say
from mpviz.telemetry import MAX_TEXT, emit, now_ns

_done = False
# Calls through a proxy whose first argument is the attribute they read or write (a Namespace's).
_ATTRIBUTES = ("__getattribute__", "__setattr__", "__delattr__")


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


def _calling(callmethod: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callmethod)
    def call(self: Any, methodname: str, args: tuple[Any, ...] = (), kwds: dict[str, Any] | None = None) -> Any:
        t = now_ns()
        facts = {"typeid": str(self._token.typeid), "method": methodname, "proxy": getattr(self, "_mpviz_name", "")}
        if methodname in _ATTRIBUTES and args and isinstance(args[0], str):
            facts["attr"] = args[0][:MAX_TEXT]  # ns.value: which attribute
        try:
            result = callmethod(self, methodname, args, {} if kwds is None else kwds)
        except BaseException as exc:
            say("manager.call", manager_id(self._token.address), {**facts, "error": type(exc).__name__}, t_ns=t)
            unseen(exc)
            raise
        say("manager.call", manager_id(self._token.address), facts, t_ns=t)
        return result

    return call


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
