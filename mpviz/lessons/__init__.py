"""The lessons: one package each, listed here.

A lesson is a folder ``mpviz/lessons/NAME/`` with

* ``workers.py`` — the tutorial's code and the lesson's words (what its
  processes report).  It is all a lesson process imports: only ``mpviz.sync``
  and ``mpviz.telemetry``, never Textual, psutil, the model or the runtime;
* ``lesson.py`` — ``LESSON``, a :class:`~mpviz.lessons.base.Lesson` subclass:
  parameters, keys, the main part, and the verdict from the model's facts;
* ``panel.py`` — ``PANEL``, its picture in the dashboard (Textual).

and one line in ``NAMES`` below.  Lesson and panel modules are imported only
when asked for: a spawned child that unpickles a worker function imports this
package, and must not pay for the lessons it does not run.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mpviz.lessons.base import Lesson

# The order the home screen and ``mpviz list`` show them in.
NAMES: tuple[str, ...] = (
    "ktv",
    "traffic",
    "prodcons",
    "tickets",
    "printlock",
    "chat",
    "pingpong",
    "event",
    "queue",
    "philosophers",
)


@cache
def lesson_class(name: str) -> type[Lesson]:
    """The lesson called ``name`` (KeyError if there is none)."""
    if name not in NAMES:
        raise KeyError(name)
    cls: type[Lesson] = import_module(f"mpviz.lessons.{name}.lesson").LESSON
    return cls


def lessons() -> list[type[Lesson]]:
    return [lesson_class(name) for name in NAMES]


def panel_module(name: str) -> str:
    """Where the lesson's panel lives: the UI imports it (``PANEL``), nobody else."""
    return f"mpviz.lessons.{name}.panel"
