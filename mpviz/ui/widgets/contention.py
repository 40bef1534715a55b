"""Contention: how long processes waited for each primitive and held it, and where each process's time went.

The same figures as ``mpviz stats`` (``mpviz.model.stats.contention``), drawn
for the screen: a few lines per primitive, then a stacked bar per process.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget

from mpviz.lang import T
from mpviz.model import Model
from mpviz.model.stats import contention, seconds
from mpviz.model.timing import Activity
from mpviz.ui.widgets.text_view import TextView

# How each part of a process's time looks in its bar: the glyph tells them apart without colour too.
ACTIVITY_STYLE = {
    Activity.RUNNING: ("█", "dodger_blue1"),
    Activity.HOLDING: ("█", "green3"),
    Activity.LOCK: ("▒", "red1"),
    Activity.QUEUE: ("▒", "dark_orange"),
    Activity.EVENT: ("▒", "gold1"),
    Activity.SLEEPING: ("░", "grey62"),
    Activity.ELSEWHERE: ("▒", "orchid"),
    Activity.OTHER: ("·", "grey50"),
}
NAME = 14
NAME_MAX = 26
SAY = {
    "none": T("none", "无"),
    "wait": T("wait", "等待"),
    "hold": T("hold", "持有"),
    "lock": T(
        "{acquisitions} acquired · {waits} waited · most waiting {most}",
        "获取 {acquisitions} 次 · 等过 {waits} 次 · 最多同时 {most} 个在等",
    ),
    "queue": T("{puts} put · {gets} got · deepest {deepest}", "put {puts} 次 · get {gets} 次 · 最深 {deepest}"),
    "blocked": T("blocked: ", "阻塞:"),
    "blocked_sides": T("getters {get} · putters {put}", "get 方 {get} · put 方 {put}"),
    "event": T("{sets} set · {clears} cleared · {waits} waits", "set {sets} 次 · clear {clears} 次 · wait {waits} 次"),
    "passed": T("{passed} passed", "通过 {passed} 次"),
}
# The legend's words (the activities' own names are the keys of `mpviz stats --json`).
LEGEND = {
    Activity.RUNNING: T("running", "运行"),
    Activity.HOLDING: T("holding", "持有"),
    Activity.LOCK: T("lock", "等锁"),
    Activity.QUEUE: T("queue", "队列"),
    Activity.EVENT: T("event", "事件"),
    Activity.SLEEPING: T("sleeping", "睡眠"),
    Activity.ELSEWHERE: T("elsewhere", "别处等待"),
    Activity.OTHER: T("other", "其他"),
}


def _times(label: str, figures: dict[str, Any], p99: bool = True) -> Text:
    text = Text(f"{label} ", style="dim")
    if not figures["count"]:
        text.append(str(SAY["none"]), style="dim")
        return text
    text.append(f"p50 {seconds(figures['p50_s'])}")
    if p99:
        text.append(f" p99 {seconds(figures['p99_s'])}")
    text.append(f" max {seconds(figures['max_s'])}", style="bold")
    return text


def _primitive(p: dict[str, Any]) -> Text:
    """Its counts, then how long waits (and holds) lasted, a line each."""
    text = Text.assemble((f"{p['kind']} '{p['name']}'", "bold"))
    second = Text("  ")
    if "hold" in p:
        text.append("  " + SAY["lock"](acquisitions=p["acquisitions"], waits=p["waits"], most=p["most_waiting"]))
        second.append_text(_times(str(SAY["wait"]), p["wait"]))
        second.append("\n  ")
        second.append_text(_times(str(SAY["hold"]), p["hold"], p99=False))
    elif "deepest" in p:
        text.append("  " + SAY["queue"](puts=p["puts"], gets=p["gets"], deepest=p["deepest"]))
        second.append(str(SAY["blocked"]), style="dim")
        get, put = seconds(p["get_blocked"]["total_s"]), seconds(p["put_blocked"]["total_s"])
        second.append(SAY["blocked_sides"](get=get, put=put))
    elif "sets" in p:
        text.append("  " + SAY["event"](sets=p["sets"], clears=p["clears"], waits=p["waits"]))
        second.append_text(_times(str(SAY["wait"]), p["wait"]))
    else:
        text.append("  " + SAY["passed"](passed=p["passed"]))
        second.append_text(_times(str(SAY["wait"]), p["wait"]))
    text.append("\n")
    text.append_text(second)
    return text


def bar(times: dict[str, float], lifetime: float, width: int) -> Text:
    """A process's lifetime as one bar, each activity its share of the width."""
    text = Text()
    used = 0
    shares = [(activity, times[activity.value]) for activity in Activity]
    for i, (activity, spent) in enumerate(shares):
        cells = width - used if i == len(shares) - 1 else round(width * spent / lifetime) if lifetime else 0
        cells = max(0, min(cells, width - used))
        if i == len(shares) - 1 and not spent:
            cells = 0
        glyph, style = ACTIVITY_STYLE[activity]
        text.append(glyph * cells, style=style)
        used += cells
    return text


def contention_text(model: Model, now_ns: int, width: int) -> Text:
    """Where each process's time went (a stacked bar each), then each primitive's figures."""
    figures = contention(model, now_ns)
    text = Text()
    for activity in Activity:
        glyph, style = ACTIVITY_STYLE[activity]
        text.append(glyph, style=style)
        text.append(f"{LEGEND[activity]} ", style="dim")
    text.append("\n")
    # The names' column fits the longest name (a pool's "ForkPoolWorker-12"), within NAME … NAME_MAX.
    name = min(max([NAME, *(len(p["name"]) + 1 for p in figures["processes"])]), NAME_MAX)
    columns = max(8, width - name - 9)
    for p in figures["processes"]:
        text.append(f"{p['name'][: name - 1]:<{name}}")
        text.append_text(bar(p["time_s"], p["lifetime_s"], columns))
        text.append(f" {seconds(p['lifetime_s']):>8}\n", style="dim")
    for p in figures["primitives"]:
        text.append("\n")
        text.append_text(_primitive(p))
    text.rstrip()
    return text


class ContentionView(VerticalScroll, can_focus=False):
    """The contention figures of the run (the ``s`` key)."""

    def compose(self) -> ComposeResult:
        yield TextView()

    def present(self, model: Model, now_ns: int) -> None:
        # The switcher it sits in has its size even on the refresh that first shows this view.
        outer = self.parent.size.width if isinstance(self.parent, Widget) else self.size.width
        width = max(30, outer - 7)  # the border, the padding, the scroll bar
        self.query_one(TextView).show(contention_text(model, now_ns, width))
