"""The messages the dashboard's workers post."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from mpviz.telemetry import Event


@dataclass
class RecordsArrived(Message):
    """A batch of records from the reader worker, in time order."""

    events: list[Event]
