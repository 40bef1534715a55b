"""A read-modify-write of a Value or an Array's item outside ``get_lock()``, said.

``v.value += 1`` reads and writes under the lock, but lets it go in between: another process's
write there is lost (the multiprocessing docs' own warning on Value).  Each process says, once per
object, that one of its threads read and then wrote it outside ``get_lock()``; the model names the
pitfall once two processes did (model/pitfalls.py).
"""

from __future__ import annotations

import threading

from mpviz.sync.sites import say

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from typing import Any

_said: set[str] = set()  # the locks (the objects' ids here) already said of, in this process


def instrument_values() -> None:
    """``Value.value`` and an ``Array``'s items, as multiprocessing gives them, in this process: a
    write that follows the same thread's read, both outside ``get_lock()``, is said."""
    from multiprocessing import sharedctypes  # (loaded: this runs once it is, see sync/context.py)

    synchronized: Any = sharedctypes.Synchronized
    array: Any = sharedctypes.SynchronizedArray
    value = vars(synchronized)["value"]  # the property itself
    getitem, setitem = array.__getitem__, array.__setitem__

    def get(self: Any) -> Any:
        _read(self)
        return value.fget(self)

    def set_(self: Any, new: Any) -> None:
        _written(self)
        value.fset(self, new)

    def get_item(self: Any, i: Any) -> Any:
        _read(self)
        return getitem(self, i)

    def set_item(self: Any, i: Any, new: Any) -> None:
        _written(self)
        setitem(self, i, new)

    synchronized.value = property(get, set_, doc=value.__doc__)
    array.__getitem__, array.__setitem__ = get_item, set_item


def _unguarded(shared: Any) -> str:
    """The id of ``shared``'s lock (one of ours) when this thread does not hold it; "" otherwise."""
    lock = shared._lock
    lock_id = getattr(lock, "id", "")
    semlock = getattr(lock, "_semlock", None)
    if not lock_id or lock_id in _said or semlock is None or semlock._is_mine():
        return ""
    from mpviz.sync.locks import any_held  # (loaded already: the Value's own lock is one)

    if any_held():
        return ""  # under a lock of the program's own (``with lock: v.value += 1``): guarded by it
    return str(lock_id)


def _read(shared: Any) -> None:
    if _unguarded(shared):
        shared.__dict__["_mpviz_read"] = threading.get_ident()


def _written(shared: Any) -> None:
    lock_id = _unguarded(shared)
    if lock_id and shared.__dict__.pop("_mpviz_read", None) == threading.get_ident():
        _said.add(lock_id)
        say("pitfall.unguarded", lock_id)
