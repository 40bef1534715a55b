"""The pingpong lesson: the exchange again and again, over a queue or a pipe, with or without the sleep."""

from __future__ import annotations

from typing import Any

from mpviz.lessons.base import Action, Lesson, Param, Run, Sample, Shot, Toggle, Verdict, all_exited
from mpviz.lessons.pingpong.workers import HI, Said, haha, haha_pipe
from mpviz.model import Model
from mpviz.sync import Pipe, Queue, sleep
from mpviz.telemetry import emit, report


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
        Toggle("d", "no_sleep", "Sleep on/off", "restart with or without main's 0.5 s sleep"),
    )
    quick = ("--rounds", "3", "--speed", "10", "--seed", "6")
    busy = ("--rounds", "20", "--no-sleep")
    samples = (
        Sample(
            "pingpong",
            {"rounds": 2},
            seed=6,
            shots=(Shot("pingpong", 1.02, "pingpong: 'hi' down, 'hello' back, through one queue"),),
        ),
        Sample(
            "pingpong-race",
            {"rounds": 2, "no_sleep": True},
            seed=6,
            shots=(Shot("pingpong-race", 0.2, "pingpong --no-sleep: main takes its own 'hi' back"),),
        ),
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
                report(Said.TOOK_OWN, round=n)
                emit("note", f"round {n}: main took back its own 'hi'; it puts it back and waits for the child")
                q.put(HI)
                if not self.run.wait_exit([child]):
                    return
                reply = q.get()
        report(Said.GOT_REPLY, item=reply, round=n)

    def finished(self, model: Model, now_ns: int) -> bool:
        return not self.directing and all_exited(model, "child", self.started)

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        races, replies = model.said(Said.TOOK_OWN), model.said(Said.GOT_REPLY)
        channel = values.get("mode", "queue")
        text = f"{replies} exchange{'' if replies == 1 else 's'} over the {channel}"
        if races:
            return Verdict(False, f"{text}; race in {races}: main took back its own 'hi'")
        return (
            Verdict(True, f"{text}; main always got the child's 'hello': invariant held")
            if final
            else Verdict(None, text)
        )


LESSON = PingPong
