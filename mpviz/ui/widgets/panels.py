"""Each lesson's own picture: the rooms, the lamp, the queue.

Drawn as plain ``Text`` (box-drawing characters included) rather than nested
Rich panels and tables: a panel is rebuilt every refresh, and plain text is
cheap to compare and to draw.  Times are whole seconds, so a panel changes at
most once a second while nothing happens.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input, Sparkline

from mpviz.model import Model, Phase, Proc
from mpviz.scenarios import printlock, tickets
from mpviz.scenarios.prodcons import QUEUE
from mpviz.scenarios.traffic import PASSED
from mpviz.ui.theme import PHASE_STYLE, duration
from mpviz.ui.widgets.text_view import TextView
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
            text.append(f" {duration(now_ns - since[proc.pid])}", style="dim")
    if len(procs) > limit:
        text.append(f" … and {len(procs) - limit} more", style="dim")
    if not procs:
        text.append("nobody", style="dim")
    return text


def boxes(cells: list[tuple[str, list[Text], str]], width: int) -> Text:
    """Titled boxes side by side, as many to a row as ``width`` takes, widened to fill it."""
    per_row = max(1, width // ROOM_WIDTH)
    inner = min(width // per_row, ROOM_WIDTH + 8) - 2
    out = Text()
    for start in range(0, len(cells), per_row):
        row = cells[start : start + per_row]
        height = max(len(lines) for _, lines, _ in row)
        top, bottom = Text(), Text()
        middles = [Text() for _ in range(height)]
        for title, lines, style in row:
            label = f" {title} "
            top.append("╭─" + label + "─" * (inner - 1 - len(label)) + "╮", style=style)
            for i in range(height):
                line = lines[i] if i < len(lines) else Text()
                line = line.copy()
                line.truncate(inner - 2, overflow="ellipsis", pad=True)
                middles[i].append("│ ", style=style)
                middles[i].append_text(line)
                middles[i].append(" │", style=style)
            bottom.append("╰" + "─" * inner + "╯", style=style)
        for line in (top, *middles, bottom):
            out.append_text(line)
            out.append("\n")
    return out


class LessonPanel(VerticalScroll, can_focus=False):
    """Base: a scrolling column of TextViews that :meth:`show` fills in.

    Not focusable itself: Tab goes from the process table to what the panel
    holds that takes keys (the chat's input box); the mouse wheel scrolls it.
    """

    PARTS: ClassVar[tuple[str, ...]] = ("main",)

    def compose(self) -> ComposeResult:
        for part in self.PARTS:
            yield TextView(id=f"panel-{part}")

    def part(self, name: str) -> TextView:
        return self.query_one(f"#panel-{name}", TextView)

    @property
    def inner_width(self) -> int:
        return max(ROOM_WIDTH, self.scrollable_content_region.width)

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
        text = Text.assemble(("Rooms", "bold"), f"  semaphore 'rooms': value {free} of {rooms} free\n")
        cells = []
        for number, pid in enumerate(seats, 1):
            if pid is None:
                cells.append((f"room {number}", [Text("free", style="dim"), Text()], "grey37"))
                continue
            proc = model.procs.get(pid)
            held = duration(now_ns - sem.held_since.get(pid, now_ns))
            lines = [Text(proc.name if proc else f"pid {pid}", style="bold green3"), Text(f"pid {pid} · {held}")]
            cells.append((f"room {number}", lines, "green3"))
        text.append_text(boxes(cells, self.inner_width))
        overflow = [pid for pid in holders if pid not in seats]
        if overflow:
            text.append(f"over capacity: {', '.join(str(p) for p in overflow)}\n", style="bold red")
        waiting = [model.procs[p] for p in sem.waiters if p in model.procs]
        text.append("\nAt the door", style="bold")
        text.append(f"  {len(waiting)} waiting in acquire(), first in line first\n")
        text.append_text(names(waiting, now_ns, since=sem.waiters))
        text.append("\n\n")
        text.append(f"{'group':<11}{'waited':>7}{'sang':>7}  now\n", style="bold")
        for proc in model.by_role("group")[-12:]:
            text.append(f"{proc.name:<11}")
            text.append(f"{duration(proc.time_in(Phase.BLOCKED, now_ns)):>7}", style=PHASE_STYLE[Phase.BLOCKED])
            text.append(f"{duration(proc.time_in(Phase.HOLDING, now_ns)):>7}", style=PHASE_STYLE[Phase.HOLDING])
            text.append(f"  {proc.state}\n", style=PHASE_STYLE[proc.phase])
        text.rstrip()
        self.part("main").show(text)


LAMP_OFF = "grey23"


class TrafficPanel(LessonPanel):
    """A lamp that is unmistakably red or green, the flag, the queue at the crossing."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        light = model.prim("light", "event")
        cycling = model.prim("cycling", "event")
        green = light.flag
        colour = "green3" if green else "red1"
        red_lamp, green_lamp = (LAMP_OFF, "green3") if green else ("red1", LAMP_OFF)
        lamp = [
            Text("╭────────╮", style="grey50"),
            *(Text.assemble(("│", "grey50"), (" ██████ ", red_lamp), ("│", "grey50")) for _ in range(2)),
            Text("│        │", style="grey50"),
            *(Text.assemble(("│", "grey50"), (" ██████ ", green_lamp), ("│", "grey50")) for _ in range(2)),
            Text("╰────────╯", style="grey50"),
        ]
        auto = cycling.flag or cycling.changed_ns is None
        words = [
            Text.assemble(
                ("GREEN" if green else "RED", f"bold {colour}"), (" · cars go" if green else " · cars wait", "bold")
            ),
            Text(f"'light' flag {green}"),
            Text(f"{'set: wait() returns at once' if green else 'clear: wait() blocks'}", style="dim"),
            Text(
                f"changed {duration(now_ns - light.changed_ns)} ago"
                if light.changed_ns is not None
                else "not changed yet"
            ),
            Text(f"automatic cycling {'on' if auto else 'off'}", style="dim"),
        ]
        room = self.inner_width - lamp[0].cell_len - 2
        text = Text()
        for i, part in enumerate(lamp):
            text.append_text(part)
            if i - 1 < len(words) and i >= 1:
                text.append("  ")
                word = words[i - 1].copy()
                word.truncate(room, overflow="ellipsis")  # a wrapped line would break the lamp
                text.append_text(word)
            text.append("\n")
        cars = model.by_role("car")
        waiting = [model.procs[p] for p in light.waiters if p in model.procs]
        passed = [c for c in cars if c.said_count(PASSED)]
        text.append("\nWaiting at the crossing", style="bold")
        text.append(f"  {len(waiting)} blocked in e.wait()\n")
        text.append_text(names(waiting, now_ns, since=light.waiters))
        text.append("\n\nPassed", style="bold")
        text.append(f"  {len(passed)} of {len(cars)} cars\n")
        text.append_text(names(passed, now_ns, limit=20))
        self.part("main").show(text)


class ProdConsPanel(LessonPanel):
    """The queue's depth now and over time, who makes, who eats, and the end signals."""

    PARTS = ("queue", "spark", "main")

    def compose(self) -> ComposeResult:
        yield TextView(id="panel-queue")
        yield Sparkline([0], id="panel-spark")
        yield TextView(id="panel-main")

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        q = model.prim(QUEUE, "queue")
        window = window_ns(model, now_ns)
        head = Text.assemble(("Queue 'buns'", "bold"), "  depth ", (str(max(q.depth, 0)), "bold"))
        head.append(f"  put {q.puts}, got {q.gets}\n")
        head.append(f"deepest in each moment of the last {window // 1_000_000_000} s:", style="dim")
        self.part("queue").show(head)
        spark = self.query_one(Sparkline)
        columns = max(1, spark.size.width)
        data = q.depth_over(now_ns - window, max(1, window // columns), columns)
        if data != spark.data:
            spark.data = data
        in_flight = [item for item, n in q.in_flight.items() for _ in range(max(n, 0))]
        body = Text.assemble(("In the queue", "bold"), "  ")
        shown = ", ".join(in_flight[:12]) + (" …" if len(in_flight) > 12 else "")
        body.append(shown or "empty", style="" if in_flight else "dim")
        for role in ("producer", "consumer"):
            procs = model.by_role(role)
            body.append(f"\n\n{role.capitalize()}s", style="bold")
            for proc in procs[-10:]:
                style = PHASE_STYLE[proc.phase]
                body.append(f"\n {proc.name:<12}", style=style)
                body.append(proc.state, style=style)
                eating = proc.phase is Phase.RUNNING and proc.said == "eating"
                last = proc.facts["eating"].last.get("item") if eating else None
                if eating and last:
                    body.append(f" {last}", style="dim")
            if not procs:
                body.append("\n none", style="dim")
        body.append("\n\nEnd signals", style="bold")
        body.append(f"  {q.pills_put} None sent, {q.pills_got} received")
        got_pill = [p for p in model.by_role("consumer") if p.said_count("done")]
        if got_pill:
            body.append(" by ")
            body.append_text(names(got_pill, now_ns))
        self.part("main").show(body)


class TicketsPanel(LessonPanel):
    """The file's count as the file says it, what was sold, the lock's holder and its line."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        facts = model.values.get(tickets.FILE, {})
        sold = model.counts[tickets.BOUGHT]
        stock = facts.get("stock", 0)
        left = facts.get("count")
        text = Text.assemble(("Ticket file", "bold"), f"  {facts.get('path', values.get('db', ''))}\n")
        if "error" in facts:
            text.append(f"  {facts['error']}\n", style="bold red")
        text.append("  left ")
        text.append("?" if left is None else str(left), style="bold")
        text.append(" (in the file) · sold ")
        text.append(str(sold), style="bold red" if sold > stock else "bold")
        text.append(f" · stock {stock}\n")
        if sold > stock:
            text.append(f"  OVERSOLD: {sold - stock} tickets that never existed\n", style="bold red")
        locked = facts.get("lock", True)
        text.append("  buyers ")
        text.append("take the lock" if locked else "skip the lock", style="green3" if locked else "bold red")
        lock = model.prim(tickets.LOCK, "lock")
        text.append("\n\nLock 'ticket'", style="bold")
        if lock.holders:
            for pid in lock.holders:
                proc = model.procs.get(pid)
                text.append("  held by ")
                text.append(proc.name if proc else f"pid {pid}", style=PHASE_STYLE[proc.phase] if proc else "")
                text.append(f" (pid {pid}) for {duration(now_ns - lock.held_since.get(pid, now_ns))}")
                if proc is not None and not proc.alive:
                    text.append(" — dead: it will never release", style="bold red")
        else:
            text.append("  free", style="dim")
        waiting = [model.procs[p] for p in lock.waiters if p in model.procs]
        text.append(f"\n  waiting ({len(waiting)}): ")
        text.append_text(names(waiting, now_ns, since=lock.waiters))
        text.append("\n\nBuyers", style="bold")
        overlapped = set(tickets.overlapping_buyers(model)) if sold > stock else set()
        if overlapped:
            text.append("  ! sold from a stale count", style="bold red")
        for proc in model.by_role("buyer")[-14:]:
            style = PHASE_STYLE[proc.phase]
            text.append("\n!" if proc.name in overlapped else "\n ", style="bold red")
            text.append(f"{proc.name:<10}", style=style)
            # A buyer that is done shows what it did: bought, or found none.
            words = proc.said if not proc.alive and proc.said and proc.exit_code == 0 else proc.state
            said = proc.facts.get(words)
            detail = said.last if said is not None and not proc.blocked else {}
            text.append(
                words + (f" ({', '.join(f'{k} {v}' for k, v in detail.items())})" if detail else ""), style=style
            )
        self.part("main").show(text)


class PrintLockPanel(LessonPanel):
    """The rounds side by side: each worker's running..done as a bar on one time scale."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        by_mode = printlock.rounds(model)
        spans: dict[str, list[tuple[str, tuple[int, int] | None, Phase]]] = {}
        longest = 1
        for mode, procs in by_mode.items():
            start = min(p.started_ns for p in procs)
            rows = []
            for proc in procs:
                s = printlock.span(proc)
                started = proc.first_said(printlock.RUNNING)
                if s is None and started is not None and proc.said == printlock.RUNNING:
                    s = (started, now_ns)
                rows.append(
                    (proc.label.partition(" ")[2], None if s is None else (s[0] - start, s[1] - start), proc.phase)
                )
                if s is not None:
                    longest = max(longest, s[1] - start)
            spans[mode] = rows
        width = max(10, self.inner_width - 9)
        text = Text.assemble(("Each worker: 'running' to 'done'", "bold"), f" ({longest / 1e9:.1f} s)\n")
        for mode in printlock.MODES:
            rows = spans.get(mode)
            text.append(f"\n{mode}", style="bold")
            text.append(printlock.HOW[mode] + "\n", style="dim")
            if not rows:
                text.append("   not run yet (m: next mode)\n", style="dim")
                continue
            glyph, style = ("█", PHASE_STYLE[Phase.HOLDING]) if mode == "lock" else ("━", PHASE_STYLE[Phase.RUNNING])
            for n, s, phase in rows:
                text.append(f"  {n:>3}  ")
                if s is None:
                    text.append("·" if phase is not Phase.EXITED else "", style="dim")
                else:
                    a, b = (round(x * (width - 1) / longest) for x in s)
                    text.append(" " * a)
                    text.append(glyph * max(1, b - a), style=style)
                text.append("\n")
        verdict = printlock.PrintLock.judge(model, values, now_ns)
        text.append(f"\n{verdict.text}", style="dim")
        self.part("main").show(text)


def transfers(model: Model) -> dict[str, list[tuple[int | None, int, str]]]:
    """Messages that went through each queue or pipe: (from pid, to pid, item), oldest first."""
    sent: dict[str, list[tuple[int, str]]] = {}
    out: dict[str, list[tuple[int | None, int, str]]] = {}
    for event in model.log:
        item = str(event.data.get("item", ""))
        if event.kind in ("queue.put", "pipe.send"):
            sent.setdefault(event.obj, []).append((event.pid, item))
        elif event.kind in ("queue.get", "pipe.recv"):
            waiting = sent.get(event.obj, [])
            match = next((i for i, (_, it) in enumerate(waiting) if it == item), None)
            source = waiting.pop(match)[0] if match is not None else None
            out.setdefault(event.obj, []).append((source, event.pid, item))
    return out


class PingPongPanel(LessonPanel):
    """Each round's messages as arrows; main taking its own message back in red."""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        channel = values.get("mode", "queue")
        text = Text.assemble(("Channel: ", "bold"), channel)
        text.append(
            "  (one end for everybody)" if channel == "queue" else "  (two ends: main's and the child's)", style="dim"
        )
        sleeps = not values.get("no_sleep", False)
        text.append(f"\nmain {'sleeps 0.5 s' if sleeps else 'does not sleep'} before its get\n")
        for prim, moves in transfers(model).items():
            text.append(f"\n{prim}\n", style="bold")
            for source, target, item in moves:
                own = source == target
                style = "bold red" if own else ""
                text.append(f"  {model.name_of(source) if source else '?':>8} ", style=style)
                text.append(f"──{item!r}──▶ ", style="bold red" if own else "green3")
                text.append(model.name_of(target), style=style)
                if own:
                    text.append(" ← its own!", style="bold red")
                text.append("\n")
        blocked = [p for p in model.procs.values() if p.alive and p.phase is Phase.BLOCKED]
        if blocked:
            text.append("\nBlocked now", style="bold")
            for proc in blocked:
                text.append(f"\n  {proc.name}: {proc.state}", style=PHASE_STYLE[proc.phase])
        self.part("main").show(text)


class ChatInput(Input):
    """The line to send; escape gives the keys back to the dashboard."""

    BINDINGS = [Binding("escape", "leave", "Back to the table", show=False)]

    def action_leave(self) -> None:
        self.screen.query_one("ProcessTable").focus()


class ChatPanel(LessonPanel):
    """The server, a process per connection, the clients, and a box to type a line into."""

    DEFAULT_CSS = """
    ChatPanel > ChatInput { dock: bottom; }
    """
    PARTS = ("main",)

    class Typed(Message):
        """A line typed in the box, to send through a client."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        yield TextView(id="panel-main")
        yield ChatInput(placeholder="a line to send (Tab here, Enter)", id="chat-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value:
            self.post_message(self.Typed(event.value))
            event.input.value = ""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        address = model.values.get("server", {}).get("address", "?")
        host, _, port = address.rpartition(":")
        text = Text.assemble(
            ("Server", "bold"), f"  listening on {address}\n", (f"  talk to it: nc {host} {port}", "dim")
        )
        for proc in model.by_role("server"):
            accepted = proc.said_count("accepted")
            text.append(f"\n  pid {proc.pid}  {proc.state}  · {accepted} accepted", style=PHASE_STYLE[proc.phase])
        text.append("\n\nConnections", style="bold")
        text.append("  a process each", style="dim")
        for proc in model.by_role("connection")[-8:]:
            facts = proc.facts
            peer = str(facts["serving"].last.get("peer", "")) if "serving" in facts else ""
            got = int(facts["received"].sums.get("bytes", 0)) if "received" in facts else 0
            put = int(facts["replied"].sums.get("bytes", 0)) if "replied" in facts else 0
            lines = proc.said_count("received")
            style = PHASE_STYLE[proc.phase]
            text.append(f"\n {proc.name:<8}", style=style)
            port = peer.rpartition(":")[2]
            text.append(f":{port:<6} {got}B in, {put}B out, {lines} line{'' if lines == 1 else 's'}", style=style)
        text.append("\n\nClients", style="bold")
        for proc in model.by_role("client")[-8:]:
            sent = proc.said_count("sent")
            replies = proc.said_count("got reply")
            text.append(f"\n {proc.name:<9}", style=PHASE_STYLE[proc.phase])
            text.append(
                f"sent {sent}, replies {replies}" + ("" if proc.alive else f", {proc.state}"),
                style=PHASE_STYLE[proc.phase],
            )
        recent = [
            (e.t_ns, model.name_of(e.pid), e.obj, e.data.get("text", ""))
            for e in model.log
            if e.kind == "proc.state" and e.obj in ("sent", "got reply")
        ][-6:]
        if recent:
            text.append("\n\nLast lines", style="bold")
            for _, who, what, line in recent:
                arrow = "→" if what == "sent" else "←"
                text.append(f"\n {who:<9}{arrow} {line}", style="" if what == "sent" else "green3")
        self.part("main").show(text)


PANELS: dict[str, type[LessonPanel]] = {
    "ktv": KtvPanel,
    "traffic": TrafficPanel,
    "prodcons": ProdConsPanel,
    "tickets": TicketsPanel,
    "printlock": PrintLockPanel,
    "chat": ChatPanel,
    "pingpong": PingPongPanel,
}
