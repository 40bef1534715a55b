"""The messages the dashboard's widgets and workers post."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from mpviz.model import Model
from mpviz.telemetry import Event


@dataclass
class RecordsArrived(Message):
    """A batch of records from the reader worker, in time order, and the model they go to
    (a replay's seek makes a new one)."""

    events: list[Event]
    model: Model | None = None


@dataclass
class LessonAction(Message):
    """A panel asks for a lesson action (the chat's typed line); ``selected``: the
    selected process's pid goes first in the arguments."""

    method: str
    args: tuple[object, ...] = ()
    selected: bool = False


@dataclass
class RestartLesson(Message):
    """The lesson screen asks the app to run its lesson again (a switch flipped, if ``flip``; in step
    mode, if ``step``)."""

    flip: str | None = None
    step: bool = False


@dataclass
class LeaveLesson(Message):
    """The lesson screen asks the app to stop its lesson and go back to the lessons."""


@dataclass
class OpenLesson(Message):
    """The home screen asks the app to start a lesson."""

    name: str


@dataclass
class SeekTo(Message):
    """A moment of a process's history was clicked (a sparkline, the details' graph): a replay moves there."""

    t_ns: int
