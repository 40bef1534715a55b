"""The languages mpviz speaks: English (the default) and the tutorial's Chinese.

What processes report stays English whatever the language: the record
vocabulary (a lesson's ``Said`` words, record kinds, process labels and
roles) is the same in every recording, so a recording replays in either
language.  Words are chosen when they are shown:

* :class:`T` is one text in both languages, written side by side where it is
  used (a lesson's title, a verdict, a panel's heading); ``str(t)`` is the
  text in the current language, ``t(n=3)`` fills in its ``{n}``;
* :func:`vocabulary` gives the Chinese of record words (``"enters to sing"``:
  ``"进来唱歌了"``) and of the nouns processes are labelled with; :func:`word`
  and :func:`label` look them up;
* :func:`words_for` picks a key's text from a table of them (a kind of
  primitive, a psutil status), the key itself when the table has none.

The language is the process's own, chosen once (``--lang``, or the
``MPVIZ_LANG`` environment variable) before anything is shown.  Only the
standard library here: the model and the lessons use it.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from string import Formatter

from mpviz.value import Value


class Lang(StrEnum):
    EN = "en"
    ZH = "zh"


ENV = "MPVIZ_LANG"


def from_env() -> Lang:
    """The language ``MPVIZ_LANG`` asks for; English if it is unset.

    Raises ValueError for a language mpviz does not speak.
    """
    value = os.environ.get(ENV, "")
    if not value:
        return Lang.EN
    try:
        return Lang(value)
    except ValueError:
        raise ValueError(f"{ENV} must be one of {', '.join(Lang)}, not {value!r}") from None


_current = Lang.EN


def current() -> Lang:
    return _current


def use(lang: Lang | str) -> None:
    """Speak ``lang`` from now on (the command line calls this once, before anything is shown)."""
    global _current
    _current = Lang(lang)


class T(Value):
    """One text in English and in Chinese; ``{name}`` placeholders are filled by calling it.

    Extra values are ignored, so a caller may pass what only one language
    uses (an English plural); the Chinese may not need a value the English
    does not (ValueError when the text is made).
    """

    __match_args__ = ("en", "zh")
    __slots__ = __match_args__
    en: str
    zh: str

    def __init__(self, en: str, zh: str) -> None:
        missing = fields(zh) - fields(en)
        if missing:
            raise ValueError(f"{zh!r} needs {', '.join(sorted(missing))}, which {en!r} does not")
        self.en = en
        self.zh = zh

    def __str__(self) -> str:
        return self.zh if _current is Lang.ZH else self.en

    def __call__(self, **values: object) -> str:
        return (self.zh if _current is Lang.ZH else self.en).format(**values)


def fields(text: str) -> set[str]:
    """The names of the placeholders in ``text``."""
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def english(text: str | T) -> str:
    """The English of a text: what goes into a record, whatever the language shown."""
    return text.en if isinstance(text, T) else text


# The Chinese of the record vocabulary: state words, labels' nouns, roles.
_ZH: dict[str, str] = {
    "main": "主进程",
    "process": "进程",
    "worker": "工作进程",
}


def vocabulary(words: Mapping[str, str]) -> None:
    """Give the Chinese of record words.  A word already given another meaning is an error:
    the vocabulary is shared by every lesson, so two lessons cannot say one word two ways."""
    for english, chinese in words.items():
        if fields(chinese) != fields(english):
            raise ValueError(f"{chinese!r} and {english!r} must fill the same placeholders")
        known = _ZH.setdefault(str(english), chinese)
        if known != chinese:
            raise ValueError(f"{english!r} is already {known!r} in Chinese, not {chinese!r}")


def word(english: str) -> str:
    """A record word in the current language (unchanged if it has no translation)."""
    return _ZH.get(english, english) if _current is Lang.ZH else english


def words_for(key: str, table: Mapping[str, T]) -> str:
    """The words ``table`` gives ``key`` (a kind of primitive, a process status), in the current
    language; the key itself if it has none."""
    words = table.get(key)
    return key if words is None else str(words)


def label(text: str) -> str:
    """A process label in the current language: its noun translated, its number kept ("group 3")."""
    if _current is not Lang.ZH:
        return text
    noun, space, rest = text.partition(" ")
    chinese = _ZH.get(noun)
    return text if chinese is None else f"{chinese}{space}{rest}"


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes: wide (CJK) characters take two."""
    if text.isascii():  # (nearly always: a cell a character, and a headless line is made per record)
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def ljust(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` cells (never cut)."""
    return text + " " * max(0, width - cells(text))


def rjust(text: str, width: int) -> str:
    """``text`` right-aligned in ``width`` cells (never cut)."""
    return " " * max(0, width - cells(text)) + text
