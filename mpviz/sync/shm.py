"""``multiprocessing.shared_memory.SharedMemory`` in a watched program: who made a block, where, and its unlink.

A block made (``create=True``) and never unlinked outlives the program: the
resource tracker warns of it at shutdown ("leaked shared_memory objects"),
and the model names the line that made it.  The class stays the standard
library's: its ``__init__`` and ``unlink`` are wrapped, once, in a watched
program's processes (``mpviz.inject``).
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from mpviz.sync.naming import new_prim
from mpviz.sync.sites import say

MODULE = "multiprocessing.shared_memory"


class _WhenImported(importlib.abc.MetaPathFinder):
    """Wraps the module as it is first imported: most programs never import it, and it costs a few ms."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> ModuleSpec | None:
        if fullname != MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        execute = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            _wrap(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def instrument_shared_memory() -> None:
    """From now on, in this process, shared memory blocks report (now, or when the module is imported)."""
    module = sys.modules.get(MODULE)
    if module is not None:
        _wrap(module)
    elif not any(isinstance(finder, _WhenImported) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WhenImported())


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
