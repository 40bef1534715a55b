"""Each lesson's own picture: the rooms, the lamp, the queue."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Sparkline, Static

from mpviz.model import Model, Phase, Proc
from mpviz.scenarios.prodcons import QUEUE
from mpviz.ui.theme import PHASE_STYLE, duration, seconds
from mpviz.ui.widgets.timeline import window_ns

ROOM_WIDTH = 17


def names(procs: list[Proc], now_ns: int, limit: int = 12, since: dict[int, int] | None = None) -> Text:
    """A comma-separated line of process names, with how long each has waited."""
    text = Text()
    for i, proc in enumerate(procs[:limit]):
        if i:
            text.append(", ")
        text.append(proc.name, style=PHASE_STYLE[proc.phase])
        if since is not None and proc.pid in since:
            text.append(f" {seconds(now_ns - since[proc.pid])}", style="dim")
    if len(procs) > limit:
        text.append(f" … and {len(procs) - limit} more", style="dim")
    if not procs:
        text.append("nobody", style="dim")
    return text


class LessonPanel(VerticalScroll):
    """Base: a scrolling column of Statics that :meth:`show` fills in."""

    PARTS: ClassVar[tuple[str, ...]] = ("main",)

    def compose(self) -> ComposeResult:
        for part in self.PARTS:
            yield Static(id=f"panel-{part}")

    def part(self, name: str) -> Static:
        return self.query_one(f"#panel-{name}", Static)

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        raise NotImplementedError


class KtvPanel(LessonPanel):
    """The rooms as slots with who sits in each, and the waiting line at the door."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rooms: list[int | None] = []

    def _seat(self, holders: list[int], rooms: int) -> list[int | None]:
        """Keep each group in the room it entered, as groups come and go."""
        if len(self._rooms) != rooms:
            self._rooms = [None] * rooms
        held = set(holders)
        self._rooms = [pid if pid in held else None for pid in self._rooms]
        seated = set(self._rooms)
        for pid in holders:
            if pid not in seated and None in self._rooms:
                self._rooms[self._rooms.index(None)] = pid
        return self._rooms

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        sem = model.prim("rooms", "sem")
        rooms = values.get("rooms", sem.capacity or 4)
        holders = list(sem.holders)
        seats = self._seat(holders, rooms)
        free = sem.value if sem.value is not None else rooms - len(holders)
        title = Text.assemble(("Rooms", "bold"), f"  semaphore 'rooms': value {free} of {rooms} free")
        slots: list[RenderableType] = []
        for number, pid in enumerate(seats, 1):
            if pid is None:
                body = Text("free", style="dim", justify="center")
                slots.append(Panel(body, title=f"room {number}", border_style="grey37", width=ROOM_WIDTH))
                continue
            proc = model.procs.get(pid)
            body = Text(proc.name if proc else f"pid {pid}", style="bold green3", justify="center")
            held = duration(now_ns - sem.held_since.get(pid, now_ns))
            body.append(f"\npid {pid} · {held}", style="green3")
            slots.append(Panel(body, title=f"room {number}", border_style="green3", width=ROOM_WIDTH))
        grid = Columns(slots, padding=(0, 0))
        overflow = [pid for pid in holders if pid not in seats]
        extra = Text()
        if overflow:
            extra = Text(f"over capacity: {', '.join(str(p) for p in overflow)}", style="bold red")
        waiting = [model.procs[p] for p in sem.waiters if p in model.procs]
        door = Text.assemble(("At the door", "bold"), f"  {len(waiting)} waiting in acquire(), first in line first\n")
        door.append_text(names(waiting, now_ns, since=sem.waiters))
        groups = model.by_role("group")
        table = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
        table.add_column("group")
        table.add_column("waited", justify="right")
        table.add_column("sang", justify="right")
        table.add_column("")
        for proc in groups[-12:]:
            table.add_row(
                proc.name,
                Text(seconds(proc.time_in(Phase.BLOCKED, now_ns)), style=PHASE_STYLE[Phase.BLOCKED]),
                Text(seconds(proc.time_in(Phase.HOLDING, now_ns)), style=PHASE_STYLE[Phase.HOLDING]),
                Text(proc.state, style=PHASE_STYLE[proc.phase]),
            )
        self.part("main").update(Group(title, grid, extra, door, Text(), table))


class TrafficPanel(LessonPanel):
    """A lamp that is unmistakably red or green, the flag, the queue at the crossing."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        light = model.prim("light", "event")
        cycling = model.prim("cycling", "event")
        green = light.flag
        colour = "green3" if green else "red1"
        lit, dark = "██████", "░░░░░░"
        lamp_rows = [
            Text("╭──────╮", style="grey50"),
            Text.assemble(("│", "grey50"), (dark if green else lit, "grey30" if green else "red1"), ("│", "grey50")),
            Text.assemble(("│", "grey50"), (dark if green else lit, "grey30" if green else "red1"), ("│", "grey50")),
            Text.assemble(("│", "grey50"), (lit if green else dark, "green3" if green else "grey30"), ("│", "grey50")),
            Text.assemble(("│", "grey50"), (lit if green else dark, "green3" if green else "grey30"), ("│", "grey50")),
            Text("╰──────╯", style="grey50"),
        ]
        lamp = Table.grid(padding=(0, 2))
        lamp.add_column()
        lamp.add_column()
        words = Text("GREEN" if green else "RED", style=f"bold {colour}")
        words.append(" · cars go" if green else " · cars wait", style="bold")
        words.append(f"\nevent 'light': flag {green}")
        words.append(
            f"\n({'set' if green else 'clear'}: wait() {'returns at once' if green else 'blocks'})", style="dim"
        )
        if light.changed_ns is not None:
            words.append(f"\nchanged {seconds(now_ns - light.changed_ns)} ago")
        auto = cycling.flag or cycling.changed_ns is None
        words.append(f"\nautomatic cycling {'on' if auto else 'off'}", style="dim")
        lamp.add_row(Group(*lamp_rows), words)
        cars = model.by_role("car")
        waiting = [model.procs[p] for p in light.waiters if p in model.procs]
        passed = [c for c in cars if any(s == "passes the crossing" for _, s, _ in c.said_log)]
        body = Text.assemble(("\nWaiting at the crossing", "bold"), f"  {len(waiting)} blocked in e.wait()\n")
        body.append_text(names(waiting, now_ns, since=light.waiters))
        body.append_text(Text.assemble(("\n\nPassed", "bold"), f"  {len(passed)} of {len(cars)} cars\n"))
        body.append_text(names(passed, now_ns, limit=20))
        self.part("main").update(Group(lamp, body))


class ProdConsPanel(LessonPanel):
    """The queue's depth now and over time, who makes, who eats, and the end signals."""

    PARTS = ("queue", "spark", "main")

    def compose(self) -> ComposeResult:
        yield Static(id="panel-queue")
        yield Sparkline([], id="panel-spark")
        yield Static(id="panel-main")

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        q = model.prim(QUEUE, "queue")
        depth = max(q.depth, 0)
        self.part("queue").update(
            Text.assemble(
                ("Queue 'buns'", "bold"),
                "  depth ",
                (str(depth), "bold"),
                f"   put {q.puts}  got {q.gets}",
                (f"   depth over the last {window_ns(model, now_ns) // 1_000_000_000} s:", "dim"),
            )
        )
        spark = self.query_one(Sparkline)
        columns = max(1, spark.size.width)
        window = window_ns(model, now_ns)
        spark.data = q.depth_over(now_ns - window, max(1, window // columns), columns)
        in_flight = [item for item, n in q.in_flight.items() for _ in range(max(n, 0))]
        body = Text.assemble(("In the queue", "bold"), "  ")
        body.append(
            ", ".join(in_flight[:12]) + (" …" if len(in_flight) > 12 else "") or "empty",
            style="" if in_flight else "dim",
        )
        for role in ("producer", "consumer"):
            procs = model.by_role(role)
            body.append(f"\n\n{role.capitalize()}s", style="bold")
            for proc in procs[-10:]:
                body.append(f"\n {proc.name:<12}", style=PHASE_STYLE[proc.phase])
                body.append(proc.state, style=PHASE_STYLE[proc.phase])
                last = next((d.get("item") for _, s, d in reversed(proc.said_log) if d.get("item")), None)
                if last and proc.phase is Phase.RUNNING and proc.said == "eating":
                    body.append(f"  {last}", style="dim")
            if not procs:
                body.append("\n none", style="dim")
        body.append("\n\nEnd signals", style="bold")
        body.append(f"  {q.pills_put} None sent, {q.pills_got} received")
        got_pill = [p for p in model.by_role("consumer") if any(s == "done" for _, s, _ in p.said_log)]
        if got_pill:
            body.append(" by ")
            body.append_text(names(got_pill, now_ns))
        self.part("main").update(body)


PANELS: dict[str, type[LessonPanel]] = {"ktv": KtvPanel, "traffic": TrafficPanel, "prodcons": ProdConsPanel}
