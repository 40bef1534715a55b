"""The server, a process per connection, the clients, and a box to type a line into."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from mpviz.lang import T, ljust
from mpviz.lessons.chat.lesson import paired
from mpviz.lessons.chat.workers import Said
from mpviz.model import Model
from mpviz.ui.theme import PHASE_STYLE
from mpviz.ui.widgets.lesson_panel import LessonPanel
from mpviz.ui.widgets.text_view import TextView

SAY = {
    "server": T("Server", "服务端"),
    "listening": T("  listening on {address}\n", "  在 {address} 上监听\n"),
    "talk_line": T("  talk to it: nc {host} {port}", "  和它对话:nc {host} {port}"),
    "talk_chunk": T(
        "  talk to it: python chat_client.py {port} (the tutorial's client)",
        "  和它对话:python chat_client.py {port}(教程的客户端)",
    ),
    "accepted": T("  · {n} accepted", "  · 接受了 {n} 个"),
    "refused": T(", {n} refused (full)", ",拒绝 {n} 个(满了)"),
    "conns": T("Connections", "连接"),
    "each": T("  a process each", "  每个一个进程"),
    "bytes": T("{got}B in, {put}B out, {n} {what}", "收 {got}B,发 {put}B,{n} {what}"),
    "line": T("line", "行"),
    "lines": T("lines", "行"),
    "recv": T("recv()", "次 recv()"),
    "recvs": T("recv()s", "次 recv()"),
    "joined": T(
        "  {sent} sends → {recvs} recv(): TCP joined them", "  {sent} 次 send → {recvs} 次 recv():TCP 把它们合并了"
    ),
    "split": T(
        "  {sent} sends → {recvs} recv(): TCP split them", "  {sent} 次 send → {recvs} 次 recv():TCP 把它们拆开了"
    ),
    "clients": T("Clients", "客户端"),
    "sent": T("sent {sent}, replies {replies}", "发了 {sent},回复 {replies}"),
    "last": T("Last messages", "最近的消息"),
    "placeholder": T("a line to send (Tab here, Enter)", "要发送的一行(Tab 到这里,回车)"),
}


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
        yield ChatInput(placeholder=str(SAY["placeholder"]), id="chat-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value:
            # Through the selected client, or the first one alive.
            self.act("send_line", event.value, selected=True)
            event.input.value = ""

    def show(self, model: Model, now_ns: int, values: dict[str, Any]) -> None:
        address = model.values.get("server", {}).get("address", "?")
        host, _, port = address.rpartition(":")
        chunk = values.get("framing") == "chunk"
        text = Text.assemble((str(SAY["server"]), "bold"), SAY["listening"](address=address))
        text.append(SAY["talk_chunk" if chunk else "talk_line"](host=host, port=port), style="dim")
        for proc in model.by_role("server"):
            text.append(f"\n  pid {proc.pid}  {proc.state}", style=PHASE_STYLE[proc.phase])
            text.append(SAY["accepted"](n=proc.said_count(Said.ACCEPTED)), style=PHASE_STYLE[proc.phase])
            refused = proc.said_count(Said.REFUSED)
            if refused:
                text.append(SAY["refused"](n=refused), style="bold red")
        text.append(f"\n\n{SAY['conns']}", style="bold")
        text.append(str(SAY["each"]), style="dim")
        ours = paired(model)
        for proc in model.by_role("connection")[-8:]:
            facts = proc.facts
            peer = str(facts[Said.SERVING].last.get("peer", "")) if Said.SERVING in facts else ""
            got = int(facts[Said.RECEIVED].sums.get("bytes", 0)) if Said.RECEIVED in facts else 0
            put = int(facts[Said.REPLIED].sums.get("bytes", 0)) if Said.REPLIED in facts else 0
            recvs = proc.said_count(Said.RECEIVED)
            style = PHASE_STYLE[proc.phase]
            text.append(f"\n {ljust(proc.name, 8)}", style=style)
            text.append(f":{peer.rpartition(':')[2]:<6} ", style=style)
            unit = SAY[("recv" if chunk else "line") + ("" if recvs == 1 else "s")]
            text.append(SAY["bytes"](got=got, put=put, n=recvs, what=unit), style=style)
            # The tutorial's protocol takes one recv() for one message: say when TCP did not keep to that.
            client = ours.get(proc.pid)
            if chunk and client is not None and not client.blocked:
                sent = client.said_count(Said.SENT)
                if sent != recvs and client.said_count(Said.GOT_REPLY):
                    text.append(
                        str(SAY["joined" if recvs < sent else "split"](sent=sent, recvs=recvs)), style="bold red"
                    )
        text.append(f"\n\n{SAY['clients']}", style="bold")
        for proc in model.by_role("client")[-8:]:
            sent = proc.said_count(Said.SENT)
            replies = proc.said_count(Said.GOT_REPLY)
            text.append(f"\n {ljust(proc.name, 9)}", style=PHASE_STYLE[proc.phase])
            text.append(
                SAY["sent"](sent=sent, replies=replies) + ("" if proc.alive else f", {proc.state}"),
                style=PHASE_STYLE[proc.phase],
            )
        recent = [
            (model.name_of(e.pid), e.obj, e.data.get("text", ""))
            for e in model.log
            # Our clients' messages, and what other clients' connections received.
            if e.kind == "proc.state"
            and (e.obj in (Said.SENT, Said.GOT_REPLY) or (e.obj == Said.RECEIVED and e.pid not in ours))
        ][-6:]
        if recent:
            text.append(f"\n\n{SAY['last']}", style="bold")
            for who, what, line in recent:
                sent = what == Said.SENT
                arrow = "←" if what == Said.GOT_REPLY else "→"
                text.append(f"\n {ljust(who, 9)}{arrow} {line}", style="" if sent else "green3")
        self.part("main").show(text)


PANEL = ChatPanel
