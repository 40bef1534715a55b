"""The queue lesson: the tutorial's one-way example, then every method it explains on a bounded queue."""

from __future__ import annotations

import queue
from typing import Any

from mpviz.lang import T, vocabulary
from mpviz.lesson import BROKEN, HELD, Action, Lesson, Param, Run, Sample, Shot, Verdict
from mpviz.lessons.queue.workers import Said, consumer, get_one, haha, producer, put_one
from mpviz.model import Model
from mpviz.sync import Queue
from mpviz.telemetry import emit, report

ONE_WAY, BOUNDED = "q", "box"  # the queues' names
STEP_ONE = "one way: main puts [1, 2, 3], the child gets it"
STEP_TWO = "Queue(maxsize={maxsize}): a producer puts {items} items, a consumer gets one every {every} s"
# How often main looks whether the producer has filled the queue.
LOOK_S = 0.05
ROLES = ("child", "producer", "consumer", "putter", "getter")

vocabulary(
    {
        Said.OUT_OF_ORDER: "取出 {item},顺序不对",
        Said.EMPTY: "empty() 返回 {value}",
        Said.FULL: "full() 返回 {value}",
        Said.QSIZE: "qsize() 返回 {value}",
        Said.PUT_FULL: "put_nowait() 引发 queue.Full",
        Said.GET_EMPTY: "get_nowait() 引发 queue.Empty",
        "putter": "放入者",
        "getter": "取出者",
        STEP_ONE: "单向:主进程放入 [1, 2, 3],子进程取出",
        STEP_TWO: "Queue(maxsize={maxsize}):生产者放入 {items} 个,消费者每 {every} 秒取一个",
    }
)
SAY = {
    "one_way": T(
        "one way: {puts} put by main, {gets} got by the child", "单向:主进程放入 {puts} 个,子进程取出 {gets} 个"
    ),
    "bounded": T(
        "maxsize {maxsize}: {puts} put, {gets} got, in the order put",
        "maxsize {maxsize}:放入 {puts} 个,取出 {gets} 个,顺序和放入时一样",
    ),
    "waited": T("the producer blocked on put {n} {times}: the queue was full", "生产者在 put 上阻塞了 {n} 次:队列满了"),
    "raised": T(
        "put_nowait() raised queue.Full {full}×, get_nowait() raised queue.Empty {empty}×",
        "put_nowait() 引发 queue.Full {full} 次,get_nowait() 引发 queue.Empty {empty} 次",
    ),
    "disorder": T("{n} {items} came out of order", "{n} 个取出的顺序不对"),
    "twice": T("taken more often than put: {items}", "取出的次数比放入的多:{items}"),
}


class QueueLesson(Lesson):
    name = "queue"
    title = T("Queue: put, get and the methods", "队列:put、get 和其他方法")
    teaches = T(
        "a Queue carries items between processes in order; with maxsize, put() blocks while it is full",
        "队列按先进先出的次序在进程之间传递;有 maxsize 时,队列满了 put() 就阻塞",
    )
    watch = T(
        "the producer blocked on put while the queue is full; what full(), empty(), qsize() and the _nowait calls return",
        "队列满时生产者阻塞在 put 上;full()、empty()、qsize() 和 _nowait 方法返回什么",
    )
    explain = T(
        "First the tutorial's one-way example: main puts [1, 2, 3] and the child prints what it gets. "
        "Then a Queue(maxsize): empty() and qsize() on the empty queue, get_nowait() raising queue.Empty; "
        "a producer puts its items and blocks on put() once the queue is full; full() and qsize() say so, "
        "and put_nowait() raises queue.Full; a consumer takes one item every few seconds and the producer "
        "goes on. As the tutorial warns, empty(), full() and qsize() may be out of date by the time you "
        "use them. p starts a process that puts one item, g one that gets one.",
        "先是教程的单向示例:主进程放入 [1, 2, 3],子进程打印它取到的东西。然后是 Queue(maxsize):"
        "对空队列调用 empty() 和 qsize(),get_nowait() 引发 queue.Empty;生产者放入它的项目,队列满了就阻塞在 "
        "put() 上;full() 和 qsize() 说明了这一点,put_nowait() 引发 queue.Full;消费者每隔几秒取一个,生产者"
        "接着放。就像教程提醒的,empty()、full() 和 qsize() 的结果在你使用时可能已经过时了。p 启动一个放入一个"
        "项目的进程,g 启动一个取出一个的进程。",
    )
    params = (
        Param("maxsize", 3, T("the bounded queue's maxsize", "有界队列的 maxsize"), 1, 1000),
        Param("items", 6, T("items the producer puts", "生产者放入几个项目"), 0, 100_000),
        Param("every", 1.0, T("seconds between the consumer's gets", "消费者每隔几秒取一个"), 0.0, 3600),
    )
    actions = (
        Action(
            "p",
            "put_item",
            T("Put", "放入"),
            T(
                "a new process puts one item (it blocks while the queue is full)",
                "启动一个进程放入一个项目(队列满时阻塞)",
            ),
        ),
        Action(
            "g",
            "get_item",
            T("Get", "取出"),
            T(
                "a new process gets one item (it blocks while the queue is empty)",
                "启动一个进程取出一个项目(队列空时阻塞)",
            ),
        ),
    )
    quick = ("--maxsize", "2", "--items", "4", "--every", "0.5", "--speed", "5", "--seed", "1")
    busy = ("--items", "1000", "--every", "0", "--speed", "50")
    samples = (
        Sample(
            "queue",
            {"maxsize": 2, "items": 5},
            seed=1,
            shots=(Shot("queue", 2.0, "queue --maxsize 2: the producer blocked on put, the queue full"),),
        ),
    )

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        self.q = Queue(name=ONE_WAY)  # q = Queue()
        self.box = Queue(self.values["maxsize"], name=BOUNDED)
        self.started = 0
        self.by_hand = 0

    def _start(self, target: Any, args: tuple[Any, ...], role: str, label: str) -> int:
        self.started += 1
        return self.run.start(target, args, role=role, label=label)

    def direct(self) -> None:
        # queue1.py: p = Process(target=haha, args=(q, )); p.start(); q.put([1, 2, 3])
        emit("note", STEP_ONE)
        child = self._start(haha, (self.q,), "child", "haha")
        self.q.put([1, 2, 3])
        if not self.run.wait_exit([child]):
            return
        v = self.values
        emit("note", STEP_TWO, {"maxsize": v["maxsize"], "items": v["items"], "every": v["every"]})
        self.ask("empty", "qsize")
        self.get_nowait()
        making = self._start(producer, (self.box, v["items"]), "producer", "producer")
        # Until the producer has filled the queue (or is done, if its items do not fill it).
        while not self.box.full() and self.run.alive(making):
            if not self.run.sleep_real(LOOK_S):
                return
        self.ask("full", "qsize")
        if self.box.full():
            self.put_nowait()
        if not self.run.sleep(v["every"]):  # the blocked producer, on show a moment
            return
        eating = self._start(consumer, (self.box, v["items"], v["every"]), "consumer", "consumer")
        if not self.run.wait_exit([making, eating]):
            return
        self.ask("empty", "qsize")
        self.get_nowait()

    def ask(self, *methods: str) -> None:
        """Call the bounded queue's methods and say what each returned."""
        said = {"empty": Said.EMPTY, "full": Said.FULL, "qsize": Said.QSIZE}
        for method in methods:
            report(said[method], value=getattr(self.box, method)())

    def put_nowait(self) -> None:
        try:
            self.box.put_nowait("one too many")
        except queue.Full:
            report(Said.PUT_FULL)

    def get_nowait(self) -> None:
        try:
            self.box.get_nowait()
        except queue.Empty:
            report(Said.GET_EMPTY)

    def put_item(self) -> None:
        self.by_hand += 1
        self._start(put_one, (self.box, f"by hand {self.by_hand}"), "putter", f"putter {self.by_hand}")

    def get_item(self) -> None:
        self._start(get_one, (self.box,), "getter", f"getter {self.started}")

    def finished(self, model: Model, now_ns: int) -> bool:
        procs = [p for role in ROLES for p in model.by_role(role)]
        return not self.directing and len(procs) >= self.started and all(not p.alive for p in procs)

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        one_way = model.prim(ONE_WAY)
        parts = [SAY["one_way"](puts=one_way.puts, gets=one_way.gets)]
        box = model.prim(BOUNDED)
        parts.append(SAY["bounded"](maxsize=values.get("maxsize", "?"), puts=box.puts, gets=box.gets))
        if box.put_waits:
            parts.append(SAY["waited"](n=box.put_waits, times="time" if box.put_waits == 1 else "times"))
        parts.append(SAY["raised"](full=model.said(Said.PUT_FULL), empty=model.said(Said.GET_EMPTY)))
        text = "; ".join(parts)
        disorder = model.said(Said.OUT_OF_ORDER)
        problems = []
        if disorder:
            problems.append(SAY["disorder"](n=disorder, items="item" if disorder == 1 else "items"))
        twice = [*one_way.overconsumed(), *box.overconsumed()]
        if twice:
            problems.append(SAY["twice"](items=", ".join(twice[:5])))
        if problems:
            return Verdict(False, f"{text}; {'; '.join(problems)}: {BROKEN}")
        return Verdict(True, f"{text}: {HELD}") if final else Verdict(None, text)


LESSON = QueueLesson
