"""A Static that redraws only when what it shows has changed."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static


class TextView(Static):
    """Shows one ``rich.text.Text``.

    Panels are rebuilt every refresh, but mostly to the same text: comparing
    is far cheaper than drawing, and a layout pass is needed only when the
    number of lines changes.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: Text | None = None
        self._lines = 0

    def show(self, text: Text) -> None:
        if text == self._shown and (self._shown is None or text.style == self._shown.style):
            return
        lines = text.plain.count("\n") + 1
        self.update(text, layout=lines != self._lines)
        self._shown, self._lines = text, lines
