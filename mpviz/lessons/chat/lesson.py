"""The chat lesson: a server, a process per connection, clients you can add, close and type through."""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any

from mpviz.lang import T, vocabulary
from mpviz.lesson import BROKEN, HELD, Action, Lesson, Param, Run, Sample, Shot, Verdict
from mpviz.lessons.chat.workers import Said, client, server
from mpviz.model import Model, Proc
from mpviz.sync import Queue
from mpviz.sync.base import plain
from mpviz.telemetry import emit

# mpviz serve marks every process of a visit with this variable (VISIT_MARK in mpviz/serve/visits.py):
# there a connection silent this long is closed unless --idle-timeout says otherwise.
SERVE_VISIT = "MPVIZ_SERVE_VISIT"
SERVE_IDLE = 300.0
LISTENS = "the server listens on {address}"

vocabulary(
    {
        Said.LISTENING: "在监听",
        Said.ACCEPTED: "接受了一个连接",
        Said.REFUSED: "服务端满了:拒绝连接",
        Said.STOPPING: "停止:先结束它的连接",
        Said.SERVING: "在服务",
        Said.RECEIVED: "收到",
        Said.INVALID: "无效的 UTF-8 已替换",
        Said.REPLIED: "回复了",
        Said.TOO_LONG: "这一行太长",
        Said.CLIENT_LEFT: "客户端走了",
        Said.IDLE: "太久没说话:关闭",
        Said.STOPPED: "关闭:课程停止",
        Said.CONNECTED: "连上了",
        Said.SENT: "发送",
        Said.GOT_REPLY: "收到回复",
        Said.SERVER_FULL: "服务端满了",
        Said.SERVER_CLOSED: "服务端关闭了连接",
        Said.CLOSED: "关闭了",
        "server": "服务端",
        "conn": "连接",
        "connection": "连接",
        "client": "客户端",
        LISTENS: "服务端在 {address} 上监听",
    }
)
SAY = {
    "ours": T("{answered} of {sent} {lines} answered", "{sent} 条消息回复了 {answered} 条"),
    "outside": T(
        "{replied} of {received} {messages} from other clients answered",
        "其他客户端的 {received} 条消息回复了 {replied} 条",
    ),
    "conns": T("{opened} {connections} opened, {closed} closed", "打开 {opened} 个连接,关闭 {closed} 个"),
    "refused": T("{n} refused: server full", "拒绝 {n} 个:服务端满了"),
    "wrong": T(
        "{n} {replies} did not match their line",
        "{n} 条回复和发出的消息对不上",
    ),
    "tcp": T(
        "TCP joined or split messages: one recv() is not one message",
        "TCP 把消息合并或拆开了:一次 recv() 不等于一条消息",
    ),
    "unanswered": T("a line went unanswered", "有消息没有得到回复"),
    "held": T("every line got its own reply", "每条消息都得到了自己的回复"),
}


def paired(model: Model) -> dict[int, Proc]:
    """Each connection process with the client process at its other end (by address), if it is one of ours."""
    clients = {}
    for proc in model.by_role("client"):
        fact = proc.facts.get(Said.CONNECTED)
        if fact is not None:
            clients[str(fact.last.get("local", ""))] = proc
    out = {}
    for conn in model.by_role("connection"):
        fact = conn.facts.get(Said.SERVING)
        peer = str(fact.last.get("peer", "")) if fact is not None else ""
        if peer in clients:
            out[conn.pid] = clients[peer]
    return out


class Chat(Lesson):
    name = "chat"
    title = T("TCP server: one process per connection", "TCP 服务端:每个连接一个进程")
    teaches = T(
        "a server process accepts connections and starts a process for each one",
        "服务端进程接受连接,为每个连接启动一个进程",
    )
    watch = T(
        "each client gets its own connection process; it ends when its client leaves",
        "每个客户端有自己的连接进程;客户端一走,它就结束",
    )
    explain = T(
        "The server process listens, and for every accepted connection starts a new process that "
        "serves only that client: it reads a message and answers it with a suffix. Clients are "
        "processes too. --framing chunk is the tutorial's protocol: one recv(1024) is one message, "
        "so its own client (chat_client.py PORT) talks to this server; but TCP is a byte stream, and "
        "two sends can arrive as one recv, or one long send as two: the panel shows when. The "
        "default, line framing, frames lines itself: talk to it with nc 127.0.0.1 PORT. Past "
        "--max-connections a client gets one 'server full' line and is closed.",
        "服务端进程监听,每接受一个连接就启动一个新进程,只为这个客户端服务:收一条消息,加个后缀回复。"
        "客户端也是进程。--framing chunk 是教程的协议:一次 recv(1024) 就是一条消息,所以教程自己的客户端"
        "(chat_client.py PORT)能和这个服务端对话;可 TCP 是字节流,两次 send 可能被一次 recv 收到,"
        "一次长 send 也可能要两次 recv:面板会指出来。默认的按行分帧自己切分每一行:用 nc 127.0.0.1 PORT "
        "和它对话。连接数超过 --max-connections 时,新客户端收到一行 'server full' 就被关闭。",
    )
    params = (
        Param(
            "clients",
            2,
            T(
                "client processes (0: only the server, until --duration or q)",
                "客户端进程数(0:只有服务端,直到 --duration 或 q)",
            ),
            0,
            500,
        ),
        Param(
            "messages",
            3,
            T(
                "messages each client sends before it leaves (0: until closed)",
                "每个客户端发几条消息后离开(0:直到被关闭)",
            ),
            0,
            1_000_000,
        ),
        Param("every", 2.0, T("seconds between a client's messages", "客户端每隔几秒发一条"), 0.0, 3600),
        Param("port", 0, T("the server's port (default: any free one)", "服务端的端口(默认:任意空闲端口)"), 0, 65535),
        Param(
            "host",
            "127.0.0.1",
            T(
                "the address to listen on (another address only if you ask for it)",
                "监听的地址(只有你要求时才用别的地址)",
            ),
        ),
        Param(
            "framing",
            "line",
            T(
                "line: a message is a line; chunk: the tutorial's protocol, one recv(1024) is one message",
                "line:一行是一条消息;chunk:教程的协议,一次 recv(1024) 是一条消息",
            ),
            choices=("line", "chunk"),
        ),
        Param(
            "max_connections",
            64,
            T(
                "connections served at once; past them a client gets 'server full'",
                "同时服务的连接数;再多的客户端收到 'server full'",
            ),
            1,
            10_000,
        ),
        Param(
            "idle_timeout",
            0.0,
            T(
                "close a connection silent this many seconds (0: never, as in the tutorial)",
                "连接沉默这么多秒就关闭(0:从不,和教程一样)",
            ),
            0,
            86_400,
        ),
    )
    actions = (
        Action(
            "c",
            "add_client",
            T("Add client", "加客户端"),
            T("another client connects and starts talking", "又一个客户端连上来开始说话"),
        ),
        Action(
            "x",
            "close_selected",
            T("Close client", "关闭客户端"),
            T("the selected client (or the newest) disconnects", "选中的客户端(或最新的)断开连接"),
            selected=True,
        ),
        Action(
            "j",
            "send_two",
            T("Two at once", "连发两条"),
            T(
                "the selected client sends two messages back to back: with --framing chunk, TCP may join them",
                "选中的客户端连着发两条消息:--framing chunk 时,TCP 可能把它们合并",
            ),
            selected=True,
        ),
    )
    facts = {"address": str}
    quick = ("--clients", "3", "--messages", "3", "--every", "0.05", "--seed", "5")
    busy = ("--clients", "10", "--messages", "0", "--every", "0.05")
    samples = (
        Sample(
            "chat",
            {"clients": 3, "messages": 3, "every": 1.0},
            seed=5,
            shots=(Shot("chat", 2.5, "chat: a server, a process per connection, three clients"),),
        ),
    )

    @classmethod
    def prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        values = dict(values)
        host, port = values.get("host") or "127.0.0.1", values.get("port", 0)
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise ValueError(f"--host {host!r} is not an address this machine can listen on") from None
        # Port 0 too: an address that is not this machine's is refused here, not by a traceback later.
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, port))
            except OSError as exc:
                what = "is in use" if exc.errno == 98 else f"cannot be used ({exc.strerror})"
                raise ValueError(f"port {port} on {host} {what}" if port else f"--host {host!r} {what}") from None
        values["host"] = host
        if not values.get("idle_timeout") and os.environ.get(SERVE_VISIT):
            values["idle_timeout"] = SERVE_IDLE  # a visitor's silent connections must not stay forever
        return values

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        # Main makes the listening socket and hands it to the server process,
        # so the port is known (and taken) before any client starts.
        host = self.values["host"]
        self.listener = socket.create_server(
            (host, self.values["port"]), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
        self.address = self.listener.getsockname()[:2]
        self.inboxes: dict[int, Queue] = {}
        self.clients = 0

    def direct(self) -> None:
        address = f"{self.address[0]}:{self.address[1]}"
        emit("data.value", "server", {"address": address, "text": LISTENS})
        # The clients start once the server process is up: it listens before anyone connects.
        ready = plain(None).Event()  # mpviz's own wait, not the tutorial's: not shown
        args = (
            self.listener,
            ready,
            self.values["framing"],
            self.values["max_connections"],
            self.values["idle_timeout"],
        )
        self.run.start(server, args, role="server", label="server")
        self.listener.close()  # the server process has its own copy
        while not ready.wait(0.1):
            if self.run.stopping:
                return
        for _ in range(self.values["clients"]):
            self.add_client()

    def add_client(self) -> None:
        k = self.clients
        self.clients += 1
        inbox = Queue(name=f"to client {k}")
        v = self.values
        args = (k, self.address, inbox, v["messages"], v["every"], v["framing"])
        self.inboxes[self.run.start(client, args, role="client", label=f"client {k}")] = inbox

    def _inbox(self, selected: int | None) -> Queue:
        """The selected client's inbox, or the first live one's."""
        live = [pid for pid in self.inboxes if self.run.alive(pid)]
        if not live:
            raise ValueError("no client is connected: press c to add one")
        return self.inboxes[selected if selected in live else live[0]]

    def send_line(self, selected: int | None, line: str) -> None:
        """A line typed in the dashboard, sent through the selected client, or the first one alive."""
        self._inbox(selected).put([line])

    def send_two(self, selected: int | None = None) -> None:
        self._inbox(selected).put(["first of two", "second of two"])

    def close_selected(self, selected: int | None = None) -> None:
        live = [pid for pid in self.inboxes if self.run.alive(pid)]
        pid = selected if selected in live else (live[-1] if live else None)
        if pid is not None:
            self.inboxes[pid].put(None)

    def finished(self, model: Model, now_ns: int) -> bool:
        # With no clients of its own (or clients that never stop) the server is there
        # for whoever connects, until --duration or q.
        if self.directing or not self.values["messages"] or not self.values["clients"]:
            return False
        clients = model.by_role("client")
        conns = model.by_role("connection")
        return (
            len(clients) >= self.clients
            and all(not c.alive for c in clients)
            and len(conns) >= len(clients)
            and all(not c.alive for c in conns)
        )

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.close()

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        sent = answered = wrong = 0
        for proc in model.by_role("client"):
            sent += proc.said_count(Said.SENT)
            replies = proc.facts.get(Said.GOT_REPLY)
            if replies is not None:
                answered += int(replies.sums.get("lines", replies.count))
                wrong += replies.count - replies.trues.get("matched", 0)
        ours = paired(model)
        conns = model.by_role("connection")
        others = [c for c in conns if c.pid not in ours and Said.SERVING in c.facts]  # other clients' connections
        received = sum(c.said_count(Said.RECEIVED) for c in others)
        replied = sum(c.said_count(Said.REPLIED) for c in others)
        opened, closed = len(conns), sum(1 for c in conns if not c.alive)
        parts = []
        if model.by_role("client"):
            parts.append(SAY["ours"](answered=answered, sent=sent, lines="line" if sent == 1 else "lines"))
        if others or not parts:
            messages = "message" if received == 1 else "messages"
            parts.append(SAY["outside"](replied=replied, received=received, messages=messages))
        parts.append(
            SAY["conns"](opened=opened, closed=closed, connections="connection" if opened == 1 else "connections")
        )
        refused = model.said(Said.REFUSED)
        if refused:
            parts.append(SAY["refused"](n=refused))
        text = "; ".join(parts)
        if wrong:
            why = SAY["wrong"](n=wrong, replies="reply" if wrong == 1 else "replies")
            if values.get("framing") == "chunk":
                why = f"{why}: {SAY['tcp']}"
            return Verdict(False, f"{text}; {why}: {BROKEN}")
        if final and answered != sent:
            return Verdict(False, f"{text}; {SAY['unanswered']}: {BROKEN}")
        return Verdict(True, f"{text}; {SAY['held']}: {HELD}") if final else Verdict(None, text)


LESSON = Chat
