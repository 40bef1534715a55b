"""The top line: what is on screen, and how the run is going.

Our own rather than Textual's Header: a Header made for each restarted
lesson stayed subscribed to the app, and kept its screen's widgets alive.
"""

from __future__ import annotations

from rich.text import Text

from mpviz.ui.widgets.text_view import TextView


class TitleBar(TextView):
    DEFAULT_CSS = """
    TitleBar {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def set(self, title: str, status: str = "") -> None:
        text = Text(title, style="bold", no_wrap=True, overflow="ellipsis")
        if status:
            text.append("  —  ", style="dim")
            text.append(status, style="dim")
        self.show(text)


def position_bar(played: float, total: float, width: int = 16) -> str:
    """Where a replay is: ``0:12 / 1:05 ━━━●──────``."""
    filled = round(width * played / total) if total > 0 else 0
    filled = min(max(filled, 0), width)
    bar = "━" * filled + "●" + "─" * (width - filled)
    return f"{_clock(played)} / {_clock(total)} {bar}"


def _clock(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"
