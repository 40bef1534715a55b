"""Value and Array: multiprocessing's shared ctypes, with an instrumented lock.

The shared memory itself says nothing (reads and writes are plain memory
access); its lock — an RLock named "<name>.lock" unless one is given — reports
like any lock, and the shared object's ``prim.new`` names it.
"""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing import sharedctypes

from mpviz.sync.locks import RLock
from mpviz.sync.naming import announce, name_and_site

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from typing import Any


def _shared(kind: str, make: Callable[[Any], Any], typecode_or_type: Any, lock: Any, ctx: Any, name: str | None) -> Any:
    name, site = name_and_site(kind, name)
    if lock is True or lock is None:
        lock = RLock(ctx=ctx, name=f"{name}.lock")
    obj = make(lock)
    typecode = typecode_or_type if isinstance(typecode_or_type, str) else getattr(typecode_or_type, "__name__", "")
    announce(kind, name, site, typecode=typecode, lock=getattr(lock, "id", ""))
    return obj


def Value(typecode_or_type: Any, *args: Any, lock: Any = True, ctx: Any = None, name: str | None = None) -> Any:  # noqa: N802 - mirrors multiprocessing.Value
    """``multiprocessing.Value``: one shared ctypes value, with ``get_lock()`` unless ``lock=False``."""

    def make(lock: Any) -> Any:
        return sharedctypes.Value(typecode_or_type, *args, lock=lock, ctx=ctx)

    return _shared("value", make, typecode_or_type, lock, ctx, name)


def Array(  # noqa: N802 - mirrors multiprocessing.Array
    typecode_or_type: Any, size_or_initializer: Any, *, lock: Any = True, ctx: Any = None, name: str | None = None
) -> Any:
    """``multiprocessing.Array``: a shared ctypes array, with ``get_lock()`` unless ``lock=False``."""

    def make(lock: Any) -> Any:
        return sharedctypes.Array(typecode_or_type, size_or_initializer, lock=lock, ctx=ctx)

    return _shared("array", make, typecode_or_type, lock, ctx, name)
