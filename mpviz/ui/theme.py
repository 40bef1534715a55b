"""Colours, glyphs and number formats shared by the widgets."""

from __future__ import annotations

from mpviz.lang import T
from mpviz.model import Phase

# What each phase looks like in the table and on the timeline.  The glyphs
# differ as well as the colours, so the timeline reads without colour too.
PHASE_STYLE = {
    Phase.STARTING: "dim",
    Phase.RUNNING: "dodger_blue1",
    Phase.BLOCKED: "bold red1",
    Phase.HOLDING: "bold green3",
    Phase.STOPPED: "bold magenta",
    Phase.EXITED: "grey50",
    Phase.SLEEPING: "steel_blue",
}

PHASE_GLYPH = {
    Phase.STARTING: "·",
    Phase.RUNNING: "━",
    Phase.BLOCKED: "▒",
    Phase.HOLDING: "█",
    Phase.STOPPED: "▚",
    Phase.EXITED: " ",
    Phase.SLEEPING: "╌",
}

PHASE_WORDS = {
    Phase.STARTING: T("starting", "启动中"),
    Phase.RUNNING: T("running", "运行"),
    Phase.BLOCKED: T("blocked", "阻塞"),
    Phase.HOLDING: T("holding", "持有"),
    Phase.STOPPED: T("paused", "暂停"),
    Phase.EXITED: T("exited", "已退出"),
    Phase.SLEEPING: T("sleeping", "睡眠"),
}

# psutil's words for a process's status, and the table's own (``lang.words_for`` gives them).
STATUS = {
    "exited": T("exited", "已退出"),
    "stopped": T("stopped", "已停止"),
    "sleeping": T("sleeping", "睡眠"),
    "running": T("running", "运行"),
    "disk-sleep": T("disk-sleep", "磁盘等待"),
    "zombie": T("zombie", "僵尸"),
    "idle": T("idle", "空闲"),
}


def duration(ns: int) -> str:
    """A short, steady duration: whole seconds for the first minute, then whole
    minutes, so that a long wait redraws once a minute, not every second."""
    s = max(0, ns) // 1_000_000_000
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def duration_lasts(ns: int) -> int:
    """How much longer than ``ns`` a duration reads as ``duration(ns)`` does (at least 1 ns)."""
    ns = max(0, ns)
    unit = 1_000_000_000 if ns < 60_000_000_000 else 60_000_000_000
    return (ns // unit + 1) * unit - ns


def megabytes(rss: int) -> str:
    return f"{rss / 1048576:.1f}M"
