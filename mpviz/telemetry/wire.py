"""The wire format: frames back into records, and what a record may hold.

A record as a frame (its payload, its length in front, the bounds of its
fields) is :mod:`mpviz.telemetry.framing`'s, what every process writes; its
names are here too.  This is the reading side's: a reader takes a longer
length than a record's for a stream that is not ours and drops what it holds.

What a record holds is never believed: :func:`check` takes a decoded value
for a record only if every field is what its kind says (``FIELDS``), every
number fits 64 bits and is finite, every text and list is bounded.  It is
the one check of a record, whatever carried it: a connection's frames here,
a recording's lines (:mod:`mpviz.recording.reader`), any later transport.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable
from itertools import chain

from mpviz.telemetry.framing import (  # (encode and frame: the format's names, here too)
    _LENGTH,
    HEADER,
    MAX_FLOAT,
    MAX_INT,
    MAX_ITEMS,
    MAX_KIND,
    MAX_LIST,
    MAX_OBJ,
    MAX_PID,
    MAX_RECORD_BYTES,
    MAX_STRING,
)
from mpviz.telemetry.framing import encode as encode
from mpviz.telemetry.framing import frame as frame
from mpviz.telemetry.record import Event, Malformed

_new = tuple.__new__  # an Event made without NamedTuple's own __new__ (a Python function)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def decode(payload: bytes) -> Event:
    try:
        value = marshal.loads(payload)
    except (ValueError, EOFError, TypeError) as exc:  # all mean "malformed"
        raise Malformed(f"undecodable record: {exc.__class__.__name__}") from None
    return check(value)


# --- what a record may hold --------------------------------------------------------------


def whole(v: Any) -> bool:
    return type(v) is int and -MAX_INT <= v <= MAX_INT


def number(v: Any) -> bool:
    return whole(v) or (type(v) is float and -MAX_FLOAT <= v <= MAX_FLOAT)  # NaN fails both


def count(v: Any) -> bool:
    return whole(v) and v >= 0


def text(v: Any) -> bool:
    return type(v) is str and len(v) <= MAX_STRING


def flag(v: Any) -> bool:
    return type(v) is bool


def _maybe(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


def _refuse(v: Any) -> bool:
    return False


def _seconds(v: Any) -> bool:
    return number(v) and v >= 0


def _end(v: Any) -> bool:
    return type(v) is int and v in (0, 1)


def _texts(v: Any) -> bool:
    return type(v) is list and len(v) <= MAX_LIST and all(text(s) for s in v)


def _counts(v: Any) -> bool:
    return type(v) is list and len(v) <= MAX_LIST and all(count(n) for n in v)


# The fields a kind of record may carry, and what each must be.  Fields not
# listed may be anything plain (a lesson's own words): text, numbers, flags.
FIELDS: dict[str, dict[str, Callable[[Any], bool]]] = {
    "proc.stats": {"cpu": lambda v: number(v) and v >= 0, "rss": count, "threads": count, "status": text},
    "proc.spawn": {"role": text, "label": text, "ppid": _maybe(count)},
    "proc.start": {"role": text, "label": text, "ppid": _maybe(count), "argv": text, "pool": text},
    "proc.stdio": {"streams": _texts, "ring": count, "woken": count},
    "proc.exit": {"code": _maybe(whole), "signal": _maybe(text)},
    "proc.error": {"error": text},
    "proc.join": {"child": count, "timeout": _seconds},
    "proc.joined": {"child": count, "ended": flag},
    "proc.output": {"text": text, "stream": text, "partial": flag},
    "proc.wrote": {"fd": count, "text": text},  # (made into proc.output lines by the dashboard)
    "proc.lost": {"n": count},
    "proc.sleep": {"s": _seconds},
    # What an attached process is seen doing (its "threads": plain dicts, as any field may be).
    "proc.seen": {
        **dict.fromkeys(("kind", "what", "site", "on", "name", "label"), text),
        "child": _maybe(count),
        "feeders": _counts,
    },
    "prim.new": {"kind": text, "name": _maybe(text), "site": text, "value": whole, "maxsize": whole, "copy_of": text},
    "queue.put": {"item": text, "none": flag},
    "queue.get": {"item": text, "none": flag},
    "queue.put_blocked": {"item": text, "timeout": _seconds},
    "queue.get_blocked": {"timeout": _seconds},
    "queue.timeout": {"op": text},
    "pipe.send": {"end": _end, "item": text},
    "pipe.recv": {"end": _end, "item": text},
    "pipe.recv_blocked": {"end": _end},
    "event.wait": {"timeout": _seconds},
    "event.woke": {"waited": flag},
    "cond.wait": {"lock": text, "timeout": _seconds},
    "cond.notify": {"n": whole},
    "barrier.wait": {"n_waiting": count, "parties": count, "timeout": _seconds},
    "barrier.pass": {"index": whole},
    "pool.task": {"n": count, "func": text},
    "pool.result": {"n": count, "ok": flag},
    "pool.wait": {"timeout": _seconds},
    "pool.woke": {"gave_up": flag, "failed": flag},
    "pitfall.callback": {"error": text, "func": text},
    "pitfall.fork_held": {"of": text},
    "pool.init_failed": {"error": text, "func": text},
    "manager.call": {"typeid": text, "method": text, "proxy": text, "attr": text, "error": text, "of": text},
    "pitfall.proxy_copy": dict.fromkeys(("proxy", "typeid", "via", "method", "key", "type"), text),
    "manager.wait": {
        **dict.fromkeys(("typeid", "method", "proxy", "family", "manager"), text),
        "timeout": _seconds,
    },
    "site.new": {"file": text, "line": count, "func": text, "text": text},
    "proc.thread": {"th": count},
    "proc.thread_end": {"th": count},
    # A scheduled run: a process at a point, and the dashboard's decisions (mpviz.runtime.scheduler).
    "turn.ask": {"op": text, "n": count},
    "turn.go": {"who": text, "op": text, "what": text, "at": text, "code": text, "step": count},
    "turn.free": {"who": text},
    "turn.stuck": {"who": _texts},
}
for _family in ("lock", "rlock", "sem"):
    for _op in ("wait", "acquired", "released", "timeout"):
        FIELDS[f"{_family}.{_op}"] = {"value": whole, "of": whole}
    FIELDS[f"{_family}.wait"]["timeout"] = _seconds
# Any operation may say where it was made (a site's id) and by which thread (its native id).
_ANY: dict[str, Callable[[Any], bool]] = {"at": text, "th": count}
for _fields in FIELDS.values():
    for _key, _check in _ANY.items():
        _fields.setdefault(_key, _check)


def plain(value: Any, depth: int = 0) -> bool:
    """Text, a number that stays finite, a flag, nothing; or a short list or dict of them."""
    kind = type(value)
    if kind is str:
        return len(value) <= MAX_STRING
    if value is None or kind is bool:
        return True
    if kind is int or kind is float:
        return number(value)
    if depth < 2 and kind is list:
        return len(value) <= MAX_LIST and all(plain(v, depth + 1) for v in value)
    if depth < 2 and kind is dict:
        return len(value) <= MAX_ITEMS and all(type(k) is str and plain(v, depth + 1) for k, v in value.items())
    return False


def shown(value: Any) -> str:
    """A value in a message about a bad record: short, and never an error itself (a number of
    ten thousand digits has no text)."""
    if type(value) is int and not whole(value):
        return "(a number too big to show)"
    try:
        import json  # here: only a message about a bad record needs it (~1.5 ms in every process)

        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        text = f"(a {type(value).__name__})"
    return text if len(text) <= 40 else text[:39] + "…"


def check(value: Any, extra: Callable[[str, str, Any], bool | None] | None = None) -> Event:
    """``value`` as a record, every field checked by its kind; Malformed with the reason otherwise.

    ``extra(kind, key, value)`` may decide a field first (a lesson's own facts,
    for a recording): True or False, or None to leave it to the kind.  (Every
    record a run makes passes here: plain comparisons, few calls; the record made
    without a call of NamedTuple's own ``__new__``, a Python function.)"""
    if (type(value) is not tuple and type(value) is not list) or len(value) != 5:
        raise Malformed(f"not an event: {shown(value)}")
    t_ns, pid, kind, obj, data = value
    if type(t_ns) is not int or type(pid) is not int or not (0 <= t_ns <= MAX_INT and 0 <= pid <= MAX_PID):
        raise Malformed("time or pid out of range")
    if type(kind) is not str or type(obj) is not str or type(data) is not dict:
        raise Malformed(f"not an event: {shown(value)}")
    if len(kind) > MAX_KIND or len(obj) > MAX_OBJ or len(data) > MAX_ITEMS:
        raise Malformed(f"{shown(kind)}: too long to be a record")
    if data:
        check_fields(kind, data, extra)
    return _new(Event, (t_ns, pid, kind, obj, data))


def check_fields(kind: str, data: dict[Any, Any], extra: Callable[[str, str, Any], bool | None] | None) -> None:
    """Every field of a record's data, by its kind (see :func:`check`); Malformed if one is not what
    it must be.  (A ring's reader checks a SAID entry's data here: its other fields are the layout's.)"""
    fields = FIELDS.get(kind, _ANY)
    for key, field_value in data.items():
        ok = None if extra is None else extra(kind, key, field_value)
        if ok is None:
            test = fields.get(key) if type(key) is str else _refuse
            if test is not None:
                ok = test(field_value)
            else:  # plain, the commonest first, without a call (every record of a flood passes here)
                of = type(field_value)
                if of is int:
                    ok = -MAX_INT <= field_value <= MAX_INT
                elif of is str:
                    ok = len(field_value) <= MAX_STRING
                else:
                    ok = plain(field_value)
        if not ok:
            name = key if type(key) is str and key.isprintable() else shown(key)
            raise Malformed(f"{kind} {name[:40]} {shown(field_value)} is not what it must be")


def plain_fields(kind: str, datas: list[dict[Any, Any]]) -> bool:
    """Whether :func:`check_fields` (with no ``extra``) would pass each of these records' data, all
    of ``kind``: True only if every key is text the kind has no test of, and every value text short
    enough or a whole number in range.  (A ring's take of a flood's reports, looked at at once in C's
    loops, not a call each: False for a float, a flag, a list …, which :func:`check_fields` may
    still pass: ask it of each.)"""
    keys = list(chain.from_iterable(datas))
    if not set(map(type, keys)) <= _STR or not FIELDS.get(kind, _ANY).keys().isdisjoint(keys):
        return False
    values = list(chain.from_iterable(map(dict.values, datas)))
    types = set(map(type, values))
    if types <= _INT:
        return not values or (min(values) >= -MAX_INT and max(values) <= MAX_INT)
    if not types <= _INT_STR:
        return False
    ints = [v for v in values if type(v) is int]
    if ints and (min(ints) < -MAX_INT or max(ints) > MAX_INT):
        return False
    return max(len(v) for v in values if type(v) is str) <= MAX_STRING


_STR, _INT, _INT_STR = frozenset((str,)), frozenset((int,)), frozenset((int, str))


class Splitter:
    """One connection's bytes, as they come, into records.

    ``malformed`` counts what was not a record: a frame that does not decode
    or does not pass :func:`check`, and a length no record has (then the rest
    of the chunk is dropped: the stream is not ours).  ``pending`` is what is
    left of a record not yet complete."""

    def __init__(self) -> None:
        self.pending = bytearray()
        self.malformed = 0

    def feed(self, chunk: bytes) -> list[Event]:
        buf = self.pending
        buf += chunk
        got: list[Event] = []
        pos, end = 0, len(buf)
        while end - pos >= HEADER:
            (size,) = _LENGTH.unpack_from(buf, pos)
            if size > MAX_RECORD_BYTES:
                self.malformed += 1
                pos = end
                break
            if not size:  # a wake-up (WAKE): the caller reads the ring anyway
                pos += HEADER
                continue
            if end - pos - HEADER < size:
                break
            try:
                got.append(decode(bytes(buf[pos + HEADER : pos + HEADER + size])))
            except Malformed:
                self.malformed += 1
            pos += HEADER + size
        del buf[:pos]
        return got
