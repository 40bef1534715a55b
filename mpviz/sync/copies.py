"""A value got through a manager's proxy and changed at once: the change is lost.

``d["scores"].append(x)`` on a ``Manager().dict()``: ``d["scores"]`` asks the
manager's server for the list and gets a copy of it, unpickled in this
process; the ``append`` changes that copy, which nobody holds after the line,
and the server's list stays as it was (the docs, *Proxy Objects*: "the proxy
has no way of knowing when its values or items are modified").

Told without a guess: the value is a list, dict, set or bytearray the proxy
returned (``__getitem__``, ``get``, ``setdefault``: a copy of what the
container holds, referenced only by the caller's stack), and the caller's very
next instruction calls one of its changing methods (``.append(…)``) or stores
into it or deletes from it (``[i] = …``, ``del …[i]``).  The right pattern
(``v = d[k]; v.append(x); d[k] = v``) binds the copy to a name first: never
said.  Said once per line and process (``pitfall.proxy_copy``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # (not typing's: a watched program's processes import this module)
if TYPE_CHECKING:
    from types import CodeType, FrameType
    from typing import Any

# The proxy's methods whose result is a copy of what its container still holds (not ``pop``:
# what it returns is no longer there, and is the caller's to change).
GETTERS = frozenset(("__getitem__", "get", "setdefault"))
_CHANGING = ("__setitem__", "__delitem__", "clear", "pop")
# The methods that change a value of each type in place.
CHANGERS: dict[type, frozenset[str]] = {
    list: frozenset(("append", "extend", "insert", "remove", "sort", "reverse", *_CHANGING)),
    dict: frozenset(("update", "setdefault", "popitem", *_CHANGING)),
    set: frozenset(
        (
            "add",
            "discard",
            "remove",
            "update",
            "difference_update",
            "intersection_update",
            "symmetric_difference_update",
            *_CHANGING,
        )
    ),
    bytearray: frozenset(("append", "extend", "insert", "remove", "reverse", *_CHANGING)),
}
# Instructions that push exactly one value (an index: ``[0]``, ``[i]``, ``["k"]``).
_ONE_VALUE = frozenset(
    ("LOAD_CONST", "LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_BORROW", "LOAD_NAME", "LOAD_DEREF", "LOAD_SMALL_INT")
)
# What follows an instruction, by code and offset: the method called on its result at once, or
# "__setitem__" / "__delitem__" for a store into it or a delete from it; "" for anything else.
_NEXT: dict[tuple[CodeType, int], str] = {}
_said: set[tuple[CodeType, int]] = set()


def changed_at_once(caller: FrameType, via: str, value: Any) -> str:
    """The changing method the caller applies at once to ``value``, which a proxy's ``via``
    returned to it ("" when it does not: it keeps the value, reads it, or it is no copy)."""
    changers = CHANGERS.get(type(value))
    if changers is None or via not in GETTERS:
        return ""
    key = (caller.f_code, caller.f_lasti)
    then = _NEXT.get(key)
    if then is None:
        then = _NEXT[key] = _next_use(caller.f_code, caller.f_lasti)
    return then if then in changers else ""


def once(caller: FrameType) -> bool:
    """True the first time for this line of code (its instruction), in this process."""
    key = (caller.f_code, caller.f_lasti)
    if key in _said:
        return False
    _said.add(key)
    return True


def _next_use(code: CodeType, lasti: int) -> str:
    """What the instructions after the one at ``lasti`` (a subscript or a call) do with its result."""
    import dis  # (here: only a program that gets a list or a dict from a proxy pays for it)

    instructions = list(dis.get_instructions(code))
    # The instruction running: the last one at or before ``lasti`` (which may point into its caches).
    at = max((i for i, ins in enumerate(instructions) if ins.offset <= lasti), default=-1)
    if at < 0 or at + 1 >= len(instructions):
        return ""
    here, then = instructions[at], instructions[at + 1]
    if not (here.opname in ("BINARY_SUBSCR", "BINARY_OP") or here.opname.startswith("CALL")):
        return ""
    # A method of it called at once: 3.11's LOAD_METHOD, a later Python's LOAD_ATTR with its low bit set.
    if then.opname == "LOAD_METHOD" or (then.opname == "LOAD_ATTR" and (then.arg or 0) & 1):
        return str(then.argval)
    # ``[i] = …`` or ``del …[i]`` on it: one index pushed, then the store or the delete.
    after = instructions[at + 2] if at + 2 < len(instructions) else None
    if then.opname in _ONE_VALUE and after is not None:
        return {"STORE_SUBSCR": "__setitem__", "DELETE_SUBSCR": "__delitem__"}.get(after.opname, "")
    return ""


def key_words(args: tuple[Any, ...]) -> str:
    """The key or index a getter was given, as code ("'scores'", "3"); "" for another kind of key."""
    if args and type(args[0]) in (str, int) and len(repr(args[0])) <= 40:
        return repr(args[0])
    return ""
