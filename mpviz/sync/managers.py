"""Manager: multiprocessing's SyncManager, its server a process of the run.

Seen: the manager (``prim.new`` kind "manager") and its server process (role
"manager", with its start, exit and stats).  Not seen: calls through its
proxies (``Manager().dict()``, ``.Queue()``, ``.Lock()`` …) — the shared
objects live in the server as plain threading objects, and their proxies'
calls are not reported.
"""

from __future__ import annotations

from multiprocessing import managers
from typing import Any

from mpviz.sync.naming import new_prim


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
