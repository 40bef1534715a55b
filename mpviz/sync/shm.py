"""``multiprocessing.shared_memory.SharedMemory`` in a watched program: who made a block, where, and its unlink.

A block made (``create=True``) and never unlinked stays in /dev/shm while the
program runs: only the resource tracker removes it, at shutdown, warning of it
("leaked shared_memory objects"); the model names the line that made it.  The class stays the standard
library's: its ``__init__`` and ``unlink`` are wrapped, once, in a watched
program's processes (``mpviz.inject``).
"""

from __future__ import annotations

import functools
import sys
from types import ModuleType

from mpviz.sync.base import when_imported
from mpviz.sync.naming import new_prim
from mpviz.sync.sites import say

TYPE_CHECKING = False  # (not typing's: a watched program's every process imports this module)
if TYPE_CHECKING:
    from typing import Any

MODULE = "multiprocessing.shared_memory"


def instrument_shared_memory() -> None:
    """From now on, in this process, shared memory blocks report (now, or when the module is imported)."""
    # Wrapped as it is first imported: most programs never import it, and it costs a few ms.
    # (``when_imported``, not a finder of ``importlib.abc``: that module alone imports
    # importlib.resources, tempfile, shutil and random, ~5 ms in every process of a program.)
    when_imported(MODULE, lambda: _wrap(sys.modules[MODULE]))  # (once is enough: it wraps once)


def _wrap(module: ModuleType) -> None:
    cls = module.SharedMemory
    if getattr(cls, "_mpviz", False):
        return
    cls._mpviz = True
    init, unlink = cls.__init__, cls.unlink

    @functools.wraps(init)
    def __init__(self: Any, name: str | None = None, create: bool = False, size: int = 0, **kwargs: Any) -> None:  # noqa: N807
        init(self, name, create, size, **kwargs)
        if create:
            self._mpviz_id, _ = new_prim("shm", None, block=self.name, size=self.size)

    @functools.wraps(unlink)
    def unlink_(self: Any) -> None:
        unlink(self)
        if getattr(self, "_mpviz_id", ""):
            say("shm.unlink", self._mpviz_id)

    cls.__init__ = __init__
    cls.unlink = unlink_
