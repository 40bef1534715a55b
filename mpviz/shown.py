"""Text that a program or a file supplies, made safe to show on a terminal.

A process's name, what it printed, an item's preview, a recording's program
name: any of them may hold control characters, and an escape sequence that
reaches the terminal acts on it (``ESC[2J`` wipes the screen, ``OSC 0`` sets
the window's title, ``OSC 52`` writes the clipboard).  Shown, each control
character is made visible, written as Python writes it in a string
(``\\x1b[2J``); so are the characters that break a line or reorder the text
after them (line and paragraph separators, bidirectional controls).  Colour
codes (SGR, ``ESC [ … m``) may be kept where colour is wanted: what a process
printed, in the printed pane and on a terminal.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import chain

TYPE_CHECKING = False  # (typing's import is not paid before a watched program starts)
if TYPE_CHECKING:
    from typing import Any

# Not control characters to Unicode, but they break a line or reorder what follows.
_BREAKING = frozenset(
    ["\u2028", "\u2029", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
)
SGR = re.compile(r"\x1b\[[0-9;:]*m")


def _escaped(char: str) -> str:
    if unicodedata.category(char) != "Cc" and char not in _BREAKING:
        return char  # not printable, but harmless: a no-break space, a zero-width joiner
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, colours: bool = False) -> str:
    """``text`` with its control characters made visible; with ``colours``, its colour codes kept."""
    if text.isprintable():
        return text
    if not colours:
        return "".join(_escaped(c) for c in text)
    out, at = [], 0
    for match in SGR.finditer(text):
        out.append(visible(text[at : match.start()]))
        out.append(match.group())
        at = match.end()
    out.append(visible(text[at:]))
    return "".join(out)


def needs_showing(value: Any) -> bool:
    """Whether a record's value holds text with characters :func:`visible` would change (or may).
    (Asked of every record: plain loops, no calls for the usual numbers and short texts.)"""
    kind = type(value)
    if kind is str:
        return not value.isprintable()
    if kind is dict:
        try:
            keys_printable = "".join(value).isprintable()  # every key at once
        except TypeError:  # a key that is not text (only text is shown changed)
            keys_printable = all(type(key) is not str or key.isprintable() for key in value)
        if not keys_printable:
            return True
        for item in value.values():
            kind = type(item)
            if kind is str:
                if not item.isprintable():
                    return True
            elif (kind is list or kind is dict) and needs_showing(item):
                return True
        return False
    if kind is list:
        for item in value:
            if needs_showing(item):
                return True
    return False


# What :func:`none_need_showing` looks at no further than its type.
_NUMBERS = frozenset((int, float, bool, type(None)))
_NUMBERS_TEXTS = _NUMBERS | {str}


def none_need_showing(datas: list[dict[Any, Any]]) -> bool:
    """Whether :func:`needs_showing` would say False of each of these records' data: True only if
    every key and text is printable and every other value a number.  (A run of a flood's records
    at once, in C's loops, not a call each: False for a list, a dict or a key that is not text,
    which :func:`needs_showing` may still pass.)"""
    try:
        if not "".join(chain.from_iterable(datas)).isprintable():
            return False
    except TypeError:  # a key that is not text
        return False
    values = list(chain.from_iterable(map(dict.values, datas)))
    types = set(map(type, values))
    if types <= _NUMBERS:
        return True
    return types <= _NUMBERS_TEXTS and "".join([v for v in values if type(v) is str]).isprintable()


def shown(value: Any) -> Any:
    """A record's value with every text in it made visible."""
    if type(value) is str:
        return visible(value)
    if type(value) is list:
        return [shown(v) for v in value]
    if type(value) is dict:
        return {visible(k) if type(k) is str else k: shown(v) for k, v in value.items()}
    return value
