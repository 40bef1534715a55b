"""The producer–consumer lesson: a queue, producers and consumers you can add, and the end signal."""

from __future__ import annotations

from typing import Any

from mpviz.lang import T, vocabulary
from mpviz.lesson import BROKEN, HELD, Action, Lesson, Param, Run, Sample, Shot, Toggle, Verdict, all_exited
from mpviz.lessons.prodcons.workers import Said, consumer, consumer_naive, producer
from mpviz.model import Model, find_anomalies
from mpviz.sync import Queue
from mpviz.telemetry import emit

QUEUE = "buns"
HANG_SHOWN_NS = 2_000_000_000
FOODS = ("bun", "dumpling", "noodle", "mooncake", "tea egg", "spring roll")
MAIN_SENDS = "every producer is done: main sends one None per consumer"
STOPS = "the consumers would wait forever: mpviz stops them"

# The tutorial prints '%s 生产了 %s' and '%s 吃 %s'; its producers are 厨师们, its consumers 吃货们.
vocabulary(
    {
        Said.PRODUCING: "正在生产",
        Said.MADE: "生产了 {item}",
        Said.EATING: "正在吃 {item}",
        Said.ATE: "吃 {item}",
        Said.DONE: "结束了",
        "producer": "生产者",
        "consumer": "消费者",
        MAIN_SENDS: "生产者都结束了:主进程给每个消费者发一个 None",
        STOPS: "消费者会永远等下去:mpviz 把它们停掉",
    }
)
SAY = {
    "twice": T("taken more often than put: {items}", "取出的次数比放入的多:{items}"),
    "counts": T(
        "{made} items made, {eaten} eaten, {got} end {signals} received",
        "生产了 {made} 个,吃了 {eaten} 个,收到 {got} 个结束信号",
    ),
    "never": T("{left} never eaten", "{left} 个没被吃掉"),
    "stuck": T("{names} did not finish", "{names} 没有结束"),
    "held": T("every item eaten exactly once and every consumer exited", "每个都正好被吃了一次,每个消费者都退出了"),
}


class ProdCons(Lesson):
    name = "prodcons"
    title = T("Queue: producers and consumers", "队列:生产者和消费者")
    teaches = T(
        "a Queue decouples producers from consumers; None as an end signal lets consumers stop",
        "队列把生产者和消费者分开;None 作为结束信号让消费者能停下来",
    )
    watch = T(
        "the queue's depth rise and fall; the producer's None ends the consumer; in --naive mode the consumer hangs",
        "队列里的数量涨涨落落;生产者的 None 让消费者结束;--naive 时消费者卡死在空队列上",
    )
    explain = T(
        "Producers put buns into a Queue; consumers get them and eat. get() blocks while the "
        "queue is empty. In the tutorial's first version (--naive) the consumer, once the producer "
        "is done, blocks in get() forever. Its fix: the producer puts None after its items, and a "
        "consumer that gets None breaks out of its loop. With several producers and consumers one "
        "None per producer is not one per consumer; the tutorial's closing remark (--end-by main): "
        "main waits for every producer, then puts one None per consumer.",
        "生产者把包子放进队列;消费者取出来吃。队列空时 get() 阻塞。教程的第一版(--naive)里,"
        "生产者做完以后,消费者永远卡在 get() 上。改良版:生产者做完后往队列里再放一个 None,"
        "消费者收到 None 就 break 出循环。生产者和消费者多了,每个生产者一个 None 就不等于每个消费者一个;"
        "教程最后的注意(--end-by main):主进程等所有生产者结束后,给每个消费者发一个 None。",
    )
    params = (
        Param("producers", 1, T("producer processes", "生产者进程数"), 0, 200),
        Param("consumers", 1, T("consumer processes", "消费者进程数"), 0, 200),
        Param(
            "items",
            10,
            T("items each producer makes (buns, dumplings, …)", "每个生产者做几个(包子、饺子……)"),
            0,
            1_000_000,
        ),
        Param(
            "naive",
            False,
            T(
                "the tutorial's first version: no end signal, the consumers hang",
                "教程的第一版:没有结束信号,消费者卡死",
            ),
        ),
        Param(
            "end_by",
            "producer",
            T(
                "who puts the end signal: each producer after its items (the tutorial's code), or main, "
                "one per consumer, after every producer is done",
                "谁发结束信号:每个生产者做完后(教程的代码),或者主进程在所有生产者结束后给每个消费者发一个",
            ),
            choices=("producer", "main"),
        ),
    )
    actions = (
        Action(
            "p",
            "add_producer",
            T("Add producer", "加生产者"),
            T("another producer starts making its own food", "又一个生产者开始做它自己的食物"),
        ),
        Action(
            "c",
            "add_consumer",
            T("Add consumer", "加消费者"),
            T("another consumer starts eating from the queue", "又一个消费者开始从队列里取来吃"),
        ),
        Action(
            "e",
            "send_end_signal",
            T("End signal", "结束信号"),
            T("the main process puts one None for each consumer still eating", "主进程给每个还在吃的消费者放一个 None"),
        ),
    )
    toggles = (
        Toggle(
            "v",
            "naive",
            T("Naive/fixed", "第一版/改良版"),
            T(
                "restart as the tutorial's first version (no end signal) or the fixed one",
                "以教程的第一版(没有结束信号)或改良版重新开始",
            ),
        ),
        Toggle(
            "m",
            "end_by",
            T("End by", "谁发结束信号"),
            T(
                "restart with the end signal put by the producers, or by main",
                "重新开始:结束信号由生产者发,或由主进程发",
            ),
        ),
    )
    quick = ("--producers", "2", "--consumers", "2", "--items", "4", "--speed", "10", "--seed", "2")
    busy = ("--producers", "3", "--consumers", "3", "--items", "1000", "--speed", "200")
    samples = (
        Sample(
            "prodcons",
            {"producers": 2, "consumers": 3, "items": 5, "end_by": "main"},
            seed=2,
            shots=(
                Shot("prodcons", 5.0, "prodcons --end-by main: two producers, three consumers, one queue"),
                Shot("prodcons-end", 17.0, "prodcons --end-by main: end signals delivered, every consumer exited"),
            ),
        ),
        Sample(
            "prodcons-naive",
            {"items": 4, "naive": True},
            seed=2,
            shots=(Shot("prodcons-naive", 14.5, "prodcons --naive: the hang, named"),),
        ),
    )

    def __init__(self, run: Run, seed: int | None = None, **params: Any) -> None:
        super().__init__(run, seed, **params)
        self.naive: bool = self.values["naive"]
        self.by_main = not self.naive and self.values["end_by"] == "main"
        self.q = Queue(name=QUEUE)
        self.producers: list[int] = []
        self.consumers: list[int] = []
        self.signalled = 0
        self.hang_seen_ns = 0

    def direct(self) -> None:
        for _ in range(self.values["producers"]):
            self.add_producer()
        for _ in range(self.values["consumers"]):
            self.add_consumer()
        if not self.by_main:
            return  # the producers put the end signal themselves (or, naive, nobody does)
        # The closing remark: wait for every producer (added ones too), then
        # send one end signal per consumer.
        while any(self.run.alive(pid) for pid in self.producers):
            if not self.run.wait_exit(self.producers):
                return
        emit("note", MAIN_SENDS)
        self.send_end_signal()

    def add_producer(self) -> None:
        n = len(self.producers)
        # Each producer makes its own food, so the queue shows whose item is whose.
        food = FOODS[n % len(FOODS)] + ("" if n < len(FOODS) else f"#{n // len(FOODS)}")
        args = (self.q, self.values["items"], food, not self.naive and not self.by_main)
        self.producers.append(self.run.start(producer, args, role="producer", label=f"producer {n}"))

    def add_consumer(self) -> None:
        target = consumer_naive if self.naive else consumer
        label = f"consumer {len(self.consumers)}"
        self.consumers.append(self.run.start(target, (self.q,), role="consumer", label=label))

    def send_end_signal(self) -> None:
        waiting = sum(1 for pid in self.consumers if self.run.alive(pid)) - self.signalled
        for _ in range(max(waiting, 0)):
            self.q.put(None)
            self.signalled += 1

    def stop(self) -> None:
        if self.hang_seen_ns:
            emit("note", STOPS)  # what their end by SIGTERM is

    @staticmethod
    def hang(model: Model, now_ns: int) -> str:
        for anomaly in find_anomalies(model, now_ns):
            if anomaly.kind == "starved":
                return anomaly.text
        return ""

    def finished(self, model: Model, now_ns: int) -> bool:
        if self.directing:
            return False
        if self.hang(model, now_ns):
            # Nothing will change any more; end once the hang has been on
            # show for a while, so the log and recordings carry it too.
            self.hang_seen_ns = self.hang_seen_ns or now_ns
            return now_ns - self.hang_seen_ns >= HANG_SHOWN_NS
        self.hang_seen_ns = 0
        if self.naive:
            return False
        return all_exited(model, "producer", len(self.producers)) and all_exited(model, "consumer", len(self.consumers))

    @classmethod
    def judge(cls, model: Model, values: dict[str, Any], now_ns: int, final: bool = False) -> Verdict:
        q = model.prim(QUEUE)
        made = q.puts - q.pills_put
        eaten = q.gets - q.pills_got
        twice = q.overconsumed()
        if twice:
            return Verdict(False, f"{SAY['twice'](items=', '.join(twice[:5]))}: {BROKEN}")
        signals = "signal" if q.pills_got == 1 else "signals"
        text = SAY["counts"](made=made, eaten=eaten, got=q.pills_got, signals=signals)
        hang = cls.hang(model, now_ns)
        if hang:
            return Verdict(False, f"{text}; {hang}")
        if not final:
            return Verdict(None, text)
        left = q.unconsumed() - (q.pills_put - q.pills_got)
        stuck = [p.name for p in model.by_role("consumer") if p.alive or p.exit_code != 0]
        if left:
            return Verdict(False, f"{text}; {SAY['never'](left=left)}: {BROKEN}")
        if stuck:
            return Verdict(False, f"{text}; {SAY['stuck'](names=', '.join(stuck))}: {BROKEN}")
        return Verdict(True, f"{text}; {SAY['held']}: {HELD}")


LESSON = ProdCons
