"""The server, a process per connection, the clients, and a box to type a line into."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from mpviz.lessons.chat.workers import Said
from mpviz.model import Model
from mpviz.ui.theme import PHASE_STYLE
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.text_view import TextView


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

    def compose(self) -> ComposeResult:
        yield TextView(id="panel-main")
        yield ChatInput(placeholder="a line to send (Tab here, Enter)", id="chat-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value:
            # Through the selected client, or the first one alive.
            self.act("send_line", event.value, selected=True)
            event.input.value = ""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        address = model.values.get("server", {}).get("address", "?")
        host, _, port = address.rpartition(":")
        text = Text.assemble(
            ("Server", "bold"), f"  listening on {address}\n", (f"  talk to it: nc {host} {port}", "dim")
        )
        for proc in model.by_role("server"):
            accepted = proc.said_count(Said.ACCEPTED)
            text.append(f"\n  pid {proc.pid}  {proc.state}  · {accepted} accepted", style=PHASE_STYLE[proc.phase])
        text.append("\n\nConnections", style="bold")
        text.append("  a process each", style="dim")
        for proc in model.by_role("connection")[-8:]:
            facts = proc.facts
            peer = str(facts[Said.SERVING].last.get("peer", "")) if Said.SERVING in facts else ""
            got = int(facts[Said.RECEIVED].sums.get("bytes", 0)) if Said.RECEIVED in facts else 0
            put = int(facts[Said.REPLIED].sums.get("bytes", 0)) if Said.REPLIED in facts else 0
            lines = proc.said_count(Said.RECEIVED)
            style = PHASE_STYLE[proc.phase]
            text.append(f"\n {proc.name:<8}", style=style)
            port = peer.rpartition(":")[2]
            text.append(f":{port:<6} {got}B in, {put}B out, {lines} line{'' if lines == 1 else 's'}", style=style)
        text.append("\n\nClients", style="bold")
        for proc in model.by_role("client")[-8:]:
            sent = proc.said_count(Said.SENT)
            replies = proc.said_count(Said.GOT_REPLY)
            text.append(f"\n {proc.name:<9}", style=PHASE_STYLE[proc.phase])
            text.append(
                f"sent {sent}, replies {replies}" + ("" if proc.alive else f", {proc.state}"),
                style=PHASE_STYLE[proc.phase],
            )
        recent = [
            (e.t_ns, model.name_of(e.pid), e.obj, e.data.get("text", ""))
            for e in model.log
            if e.kind == "proc.state" and e.obj in (Said.SENT, Said.GOT_REPLY)
        ][-6:]
        if recent:
            text.append("\n\nLast lines", style="bold")
            for _, who, what, line in recent:
                sent = what == Said.SENT
                text.append(f"\n {who:<9}{'→' if sent else '←'} {line}", style="" if sent else "green3")
        self.part("main").show(text)


PANEL = ChatPanel
