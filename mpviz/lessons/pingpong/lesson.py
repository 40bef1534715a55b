"""The pingpong lesson: the exchange again and again, over a queue or a pipe, with or without the sleep."""

from __future__ import annotations

from typing import Any

from mpviz.lang import T, vocabulary
from mpviz.lesson import Action, Lesson, Param, Run, Sample, Shot, Toggle, Verdict, all_exited
from mpviz.lessons.pingpong.workers import HI, Said, haha, haha_pipe
from mpviz.model import Model, Phase, Proc
from mpviz.sync import Pipe, Queue, sleep
from mpviz.telemetry import emit, report

# A child blocked this long on a queue whose 'hi' main took back waits forever.
HANG_NS = 1_000_000_000
HANG_SHOWN_NS = 2_000_000_000
STOLEN = "round {round}: main took back its own 'hi': the child waits forever in q.get()"
PUT_BACK = "round {round}: main took back its own 'hi'; it puts it back and waits for the child"
STOPS = "mpviz stops the children that would wait forever"

vocabulary(
    {
        Said.GOT: "收到了",
        Said.TOOK_OWN: "拿回了自己放的消息",
        Said.GOT_REPLY: "收到了回复",
        "child": "子进程",
        STOLEN: "第 {round} 轮:主进程拿回了自己放的 'hi':子进程永远卡在 q.get() 里",
        PUT_BACK: "第 {round} 轮:主进程拿回了自己放的 'hi';它把 'hi' 放回去,等子进程",
        STOPS: "mpviz 停掉那些会永远等下去的子进程",
    }
)
SAY = {
    "exchanges": T("{n} {exchanges} over the {channel}", "通过{channel}交换了 {n} 次"),
    "queue": T("queue", "队列"),
    "pipe": T("pipe", "管道"),
    "hang": T(
        "hang: {names} {wait} forever in q.get(): main took back its own 'hi' ({races} {rounds})",
        "卡死:{names} 永远卡在 q.get() 里:主进程拿回了自己放的 'hi'({races} 轮)",
    ),
    "race": T(
        "race in {races} {rounds}: main took back its own 'hi' (it put it back and waited for the child)",
        "{races} 轮出现竞争:主进程拿回了自己放的 'hi'(它放回去又等了子进程)",
    ),
    "held": T("main always got the child's 'hello': invariant held", "主进程每次都收到子进程的 'hello':不变式成立"),
}


def hung(model: Model, now_ns: int) -> list[Proc]:
    """Children that never got their 'hi' and wait for it still, or waited until they were stopped."""
    out = []
    for proc in model.by_role("child"):
        if proc.said_count(Said.GOT):
            continue
        blocked = proc.alive and proc.phase is Phase.BLOCKED and now_ns - proc.phase_since_ns >= HANG_NS
        if blocked or proc.exit_signal is not None:
            out.append(proc)
    return out


class PingPong(Lesson):
    name = "pingpong"
    title = T("Queue both ways, and Pipe", "队列双向通信,和管道")
    teaches = T(
        "a Queue has one end for everybody: without the sleep, main takes its own 'hi' back",
        "队列只有一个口,大家共用:不 sleep 的话,主进程会把自己放的 'hi' 拿回来",
    )
    watch = T(
        "--no-sleep with the queue: main gets 'hi', the child waits forever; the pipe never races",
        "--no-sleep 用队列:主进程拿到 'hi',子进程永远等下去;管道不会这样",
    )
    explain = T(
        "Main puts 'hi' into a Queue and a child process gets it and puts 'hello' back; main sleeps "
        "0.5 s, then gets. The sleep is what makes it work: without it (--no-sleep) main's own get() "
        "can take 'hi' back, and the child then waits forever in q.get(), as the tutorial's code does. "
        "Under spawn (mpviz's default) a child needs a new interpreter and its imports before its first "
        "get, so main wins that race almost every time; under fork (the tutorial's, --start-method fork) "
        "the child is up within milliseconds and main wins only now and then. --recover: main puts 'hi' "
        "back and waits for the child. A duplex Pipe has two ends: what main sends, only the child receives.",
        "主进程把 'hi' 放进队列,子进程取出来,再放回 'hello';主进程 sleep 0.5 秒后再 get。"
        "正是这个 sleep 让它能工作:不 sleep(--no-sleep)的话,主进程自己的 get() 可能把 'hi' 拿回来,"
        "子进程就永远卡在 q.get() 里,和教程的代码一样。spawn 方式(mpviz 默认)下,子进程要先启动一个新的"
        "解释器、导入模块,才能 get,所以主进程几乎每次都抢先;fork 方式(教程用的,--start-method fork)下,"
        "子进程几毫秒就起来了,主进程只是偶尔抢先。--recover:主进程把 'hi' 放回去,等子进程。"
        "双向的管道有两个口:主进程发的,只有子进程收得到。",
    )
    params = (
        Param("mode", "queue", T("queue or pipe", "队列或管道"), choices=("queue", "pipe")),
        Param("no_sleep", False, T("main does not sleep before it gets: the race", "主进程 get 之前不 sleep:竞争")),
        Param("rounds", 1, T("exchanges, one child each", "交换几轮,每轮一个子进程"), 1, 1000),
        Param(
            "recover",
            False,
            T(
                "when main takes its own 'hi', it puts it back and waits for the child",
                "主进程拿回自己的 'hi' 时,放回去并等子进程",
            ),
        ),
    )
    actions = (
        Action(
            "g",
            "again",
            T("Send again", "再来一轮"),
            T("another exchange: a new child, 'hi' down, 'hello' back", "再交换一次:新的子进程,'hi' 过去,'hello' 回来"),
        ),
    )
    toggles = (
        Toggle("t", "mode", T("Queue/Pipe", "队列/管道"), T("restart with the other channel", "换另一种通道重新开始")),
        Toggle(
            "l",
            "no_sleep",
            T("Sleep on/off", "sleep 开/关"),
            T("restart with or without main's 0.5 s sleep", "主进程 sleep 0.5 秒或不 sleep,重新开始"),
        ),
    )
    # Fork, as the tutorial: a forked child is up within milliseconds, far inside main's 0.5 s.
    quick = ("--rounds", "3", "--start-method", "fork", "--seed", "6")
    busy = ("--rounds", "20", "--no-sleep", "--recover")
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
            shots=(Shot("pingpong-race", 2.5, "pingpong --no-sleep: main takes its own 'hi' back, the child hangs"),),
        ),
    )

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        self.started = 0
        self.hang_seen_ns = 0
        self.stolen = 0  # rounds whose child waits forever
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
                # The race: main took its own 'hi'.  The tutorial's main prints it
                # and is done, and its child waits forever in q.get().
                report(Said.TOOK_OWN, round=n)
                if not self.values["recover"]:
                    emit("note", STOLEN, {"round": n})
                    self.stolen += 1
                    return
                emit("note", PUT_BACK, {"round": n})
                q.put(HI)
                if not self.run.wait_exit([child]):
                    return
                reply = q.get()
        report(Said.GOT_REPLY, item=reply, round=n)

    def stop(self) -> None:
        if self.stolen:
            emit("note", STOPS)  # what their end by SIGTERM is

    def finished(self, model: Model, now_ns: int) -> bool:
        if self.directing:
            return False
        stuck = hung(model, now_ns)
        if stuck and all(not p.alive or p in stuck for p in model.by_role("child")):
            # Nothing will change any more: end once the hang has been on show for a while.
            self.hang_seen_ns = self.hang_seen_ns or now_ns
            return now_ns - self.hang_seen_ns >= HANG_SHOWN_NS
        return all_exited(model, "child", self.started)

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        races, replies = model.said(Said.TOOK_OWN), model.said(Said.GOT_REPLY)
        channel = SAY[values.get("mode", "queue")]
        text = SAY["exchanges"](n=replies, exchanges="exchange" if replies == 1 else "exchanges", channel=channel)
        rounds = "round" if races == 1 else "rounds"
        stuck = hung(model, now_ns)
        if stuck:
            names = ", ".join(p.name for p in stuck)
            wait = "waits" if len(stuck) == 1 else "wait"
            return Verdict(False, f"{text}; {SAY['hang'](names=names, wait=wait, races=races, rounds=rounds)}")
        if races:
            return Verdict(False, f"{text}; {SAY['race'](races=races, rounds=rounds)}")
        return Verdict(True, f"{text}; {SAY['held']}") if final else Verdict(None, text)


LESSON = PingPong
