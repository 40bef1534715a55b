"""Two-way messages: a Queue both ways (and its race), then a duplex Pipe.

The tutorial's exchange: main puts "hi", the child gets it and puts "hello"
back, main sleeps 0.5 s and gets.  Without the sleep, main can take its own
"hi" back out of the queue — a Queue has one end for everybody — and the
child waits forever.  A duplex Pipe has two ends: what main sends only the
child can receive, so the same exchange has no race.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mpviz.scenarios.base import Action, Lesson, Param, Run, Toggle, Verdict, all_exited
from mpviz.sync import Pipe, Queue, sleep
from mpviz.sync.connection import Connection as PipeEnd
from mpviz.telemetry import emit, report

if TYPE_CHECKING:
    from mpviz.model import Model

HI, HELLO = "hi", "hello"
TOOK_OWN = "took back its own message"
GOT_REPLY = "got the reply"


def haha(q: Queue) -> None:
    print_ = q.get()  # print(q.get())
    report("got", item=print_)
    q.put(HELLO)  # q.put('你好')


def haha_pipe(conn: PipeEnd) -> None:
    report("got", item=conn.recv())  # print(conn.recv())
    conn.send(HELLO)


class PingPong(Lesson):
    name = "pingpong"
    title = "Queue both ways, and Pipe"
    teaches = "a Queue has one end for everybody: without the sleep, main takes its own 'hi' back"
    watch = "--no-sleep with the queue: main gets 'hi', the child waits forever; the pipe never races"
    explain = (
        "Main puts 'hi' into a Queue and a child process gets it and puts 'hello' back; main "
        "sleeps 0.5 s, then gets. The sleep is what makes it work: without it, main's own get() "
        "can take 'hi' before the child is even up, and the child then waits forever. A duplex "
        "Pipe has two ends: what main sends, only the child receives."
    )
    params = (
        Param("mode", "queue", "queue or pipe", choices=("queue", "pipe")),
        Param("no_sleep", False, "main does not sleep before it gets: the race"),
        Param("rounds", 1, "exchanges, one child each", 1, 1000),
    )
    actions = (Action("g", "again", "Send again", "another exchange: a new child, 'hi' down, 'hello' back"),)
    toggles = (
        Toggle("t", "mode", "Queue/Pipe", "restart with the other channel"),
        Toggle("w", "no_sleep", "Sleep on/off", "restart with or without main's 0.5 s sleep"),
    )

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        self.started = 0
        # Every round's queue or pipe lives as long as the lesson: a child may
        # still be unpickling it when the round is over for main.
        self.channels: list[object] = []

    def direct(self) -> None:
        for _ in range(self.values["rounds"]):
            if self.run.stopping:
                return
            self.again()

    def again(self) -> None:
        n = self.started
        self.started += 1
        if self.values["mode"] == "pipe":
            mine, theirs = Pipe(name=f"pipe {n}")
            self.channels.append((mine, theirs))
            self.run.start(haha_pipe, (theirs,), role="child", label=f"child {n}")
            mine.send(HI)
            if not self.values["no_sleep"]:
                sleep(0.5)
            reply = mine.recv()
        else:
            q = Queue(name=f"queue {n}")
            self.channels.append(q)
            child = self.run.start(haha, (q,), role="child", label=f"child {n}")
            q.put(HI)  # q.put('hi')
            if not self.values["no_sleep"]:
                sleep(0.5)  # time.sleep(0.5)
            reply = q.get()  # print(q.get())
            if reply == HI:
                # The race.  The tutorial's child would wait forever; here main
                # puts 'hi' back and, this time, waits for the child before its get.
                report(TOOK_OWN, round=n)
                emit("note", f"round {n}: main took back its own 'hi'; it puts it back and waits for the child")
                q.put(HI)
                if not self.run.wait_exit([child]):
                    return
                reply = q.get()
        report(GOT_REPLY, item=reply, round=n)

    def finished(self, model: Model, now_ns: int) -> bool:
        return not self.directing and all_exited(model, "child", self.started)

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        races, replies = model.said(TOOK_OWN), model.said(GOT_REPLY)
        channel = values.get("mode", "queue")
        text = f"{replies} exchange{'' if replies == 1 else 's'} over the {channel}"
        if races:
            return Verdict(False, f"{text}; race in {races}: main took back its own 'hi'")
        return (
            Verdict(True, f"{text}; main always got the child's 'hello': invariant held")
            if final
            else Verdict(None, text)
        )
