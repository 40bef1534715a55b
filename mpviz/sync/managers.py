"""Manager: multiprocessing's SyncManager, its server a process of the run.

Seen: the manager (``prim.new`` kind "manager"), its server process (role
"manager", with its start, exit and stats), and every call made through a
proxy whose type is a class (``dict``, ``list``, ``Namespace``, ``Value``,
``Array``, ``Lock``, ``Event``, ``Condition``, ``Barrier``, ``Pool`` …), in
whichever process makes it: ``manager.call {"typeid", "method"}``, stamped
when the call was made.  Not seen: what the server's objects hold, who waits
inside a manager's Lock or Event (the server's threads do), and calls through
``Manager().Queue()`` and ``JoinableQueue()``, whose proxies multiprocessing
makes on the fly (``AutoProxy``).
"""

from __future__ import annotations

from multiprocessing import managers
from typing import Any

from mpviz.sync.naming import new_prim
from mpviz.sync.sites import say
from mpviz.telemetry import now_ns


class SyncManager(managers.SyncManager):
    """``multiprocessing.managers.SyncManager``, started on one of our contexts."""

    def __init__(
        self,
        address: Any = None,
        authkey: bytes | None = None,
        serializer: str = "pickle",
        ctx: Any = None,
        *,
        shutdown_timeout: float = 1.0,
        name: str | None = None,
    ) -> None:
        if ctx is None:
            from mpviz.sync.context import default_context  # not at import: that module imports this one

            ctx = default_context.get_context()
        super().__init__(address, authkey, serializer, ctx, shutdown_timeout=shutdown_timeout)
        self.id, self.name = new_prim("manager", name)


class _Reporting(managers.BaseProxy):
    """A proxy that reports each call; it carries its manager's id into the processes it is passed to."""

    _mpviz_manager = ""
    # multiprocessing's
    _manager: Any
    _token: Any

    def __init__(self, *args: Any, mpviz_manager: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mpviz_manager = mpviz_manager or getattr(self._manager, "id", "")

    def __reduce__(self) -> Any:
        rebuild, (proxytype, token, serializer, kwds) = super().__reduce__()
        return rebuild, (proxytype, token, serializer, {**kwds, "mpviz_manager": self._mpviz_manager})

    def _callmethod(self, methodname: str, args: tuple[Any, ...] = (), kwds: dict[str, Any] | None = None) -> Any:
        t = now_ns()
        result = super()._callmethod(methodname, args, kwds or {})
        say("manager.call", self._mpviz_manager, {"typeid": self._token.typeid, "method": methodname}, t_ns=t)
        return result


def _report_calls() -> None:
    """Register SyncManager's types again on ours, each class of proxy with reporting mixed in.

    The new classes are attributes of this module, so proxies pickle by
    reference to them like multiprocessing's own.
    """
    made: dict[type, type] = {}
    registry = managers.SyncManager._registry  # type: ignore[attr-defined]  # multiprocessing's, missing from typeshed
    for typeid, (make, exposed, method_to_typeid, proxytype) in registry.items():
        if not (isinstance(proxytype, type) and issubclass(proxytype, managers.BaseProxy)):
            continue  # AutoProxy: a function that makes a class per call
        if proxytype not in made:
            ours = type(proxytype.__name__, (_Reporting, proxytype), {"__module__": __name__})
            globals()[ours.__name__] = made[proxytype] = ours
        create_method = hasattr(managers.SyncManager, typeid)
        SyncManager.register(typeid, make, made[proxytype], exposed, method_to_typeid, create_method)


_report_calls()
