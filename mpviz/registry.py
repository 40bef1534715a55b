"""The registry of lessons: their names, and their plug-ins found by name.

A lesson is a package ``mpviz/lessons/NAME/`` of three plug-ins:

* ``workers.py`` — the tutorial's code and the lesson's words (what its
  processes report): all a lesson process imports, only ``mpviz.sync`` and
  ``mpviz.telemetry``;
* ``lesson.py`` — ``LESSON``, a :class:`~mpviz.lesson.Lesson` subclass:
  parameters, keys, the main part, the verdict from the model's facts;
* ``panel.py`` — ``PANEL``, its picture in the dashboard (a Textual widget).

Nothing imports a plug-in but this module, by name, when it is asked for: a
spawned child that unpickles a worker function imports only that lesson's
``workers``, and the dashboard pays for a panel only when it shows one.  What
the registry hands out is typed, so that no caller looks up module attributes.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

TYPE_CHECKING = False  # (typing's import is not paid before a watched program starts)
if TYPE_CHECKING:
    from mpviz.lesson import Lesson
    from mpviz.ui.widgets.lesson_panel import LessonPanel

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


def panel_class(lesson: type[Lesson]) -> type[LessonPanel]:
    """The panel that draws ``lesson`` (the dashboard's; it imports Textual)."""
    module = lesson.panel_module or lesson.__module__.rpartition(".")[0] + ".panel"
    cls: type[LessonPanel] = import_module(module).PANEL
    return cls


def workers_modules() -> list[str]:
    """What lesson processes import: a forkserver loads them once, so each fork starts warm."""
    return [f"mpviz.lessons.{name}.workers" for name in NAMES]
