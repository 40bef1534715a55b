"""The producer–consumer lesson: a queue, producers and consumers you can add, and the end signal."""

from __future__ import annotations

from typing import Any

from mpviz.lessons.base import Action, Lesson, Param, Run, Sample, Shot, Toggle, Verdict, all_exited
from mpviz.lessons.prodcons.workers import consumer, consumer_naive, producer
from mpviz.model import Model
from mpviz.sync import Queue

QUEUE = "buns"
HANG_SHOWN_NS = 2_000_000_000
FOODS = ("bun", "dumpling", "noodle", "mooncake", "tea egg", "spring roll")


class ProdCons(Lesson):
    name = "prodcons"
    title = "Queue: producers and consumers"
    teaches = "a Queue decouples producers from consumers; None as an end signal lets consumers stop"
    watch = "the queue's depth rise and fall; in --naive mode the consumers hang on an empty queue"
    explain = (
        "Producers put buns into a Queue; consumers get them and eat. get() blocks while the "
        "queue is empty. When the producers are done, a consumer that calls get() again would "
        "wait forever, so the main process puts one None per consumer: the end signal."
    )
    params = (
        Param("producers", 1, "producer processes", 0, 200),
        Param("consumers", 1, "consumer processes", 0, 200),
        Param("items", 10, "items each producer makes (buns, dumplings, …)", 0, 1_000_000),
        Param("naive", False, "the tutorial's first version: no end signal, the consumers hang"),
    )
    actions = (
        Action("p", "add_producer", "Add producer", "another producer starts making its own food"),
        Action("c", "add_consumer", "Add consumer", "another consumer starts eating from the queue"),
        Action("e", "send_end_signal", "End signal", "the main process puts one None for each consumer still eating"),
    )
    toggles = (
        Toggle("v", "naive", "Naive/fixed", "restart as the tutorial's first version (no end signal) or the fixed one"),
    )
    quick = ("--producers", "2", "--consumers", "3", "--items", "4", "--speed", "10", "--seed", "2")
    busy = ("--producers", "3", "--consumers", "3", "--items", "1000", "--speed", "200")
    samples = (
        Sample(
            "prodcons",
            {"producers": 2, "consumers": 3, "items": 5},
            seed=2,
            shots=(
                Shot("prodcons", 5.0, "prodcons: two producers, three consumers, one queue"),
                Shot("prodcons-end", 16.5, "prodcons: end signals delivered, every consumer exited"),
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
        if self.naive:
            return
        # The fixed version: wait for every producer (added ones too), then
        # send one end signal per consumer.
        while any(self.run.alive(pid) for pid in self.producers):
            if not self.run.wait_exit(self.producers):
                return
        self.run.note("every producer is done: main sends one None per consumer")
        self.send_end_signal()

    def add_producer(self) -> None:
        n = len(self.producers)
        # Each producer makes its own food, so the queue shows whose item is whose.
        food = FOODS[n % len(FOODS)] + ("" if n < len(FOODS) else f"#{n // len(FOODS)}")
        args = (self.q, self.values["items"], food)
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

    @staticmethod
    def hang(model: Model, now_ns: int) -> str:
        for anomaly in model.anomalies(now_ns):
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
            return Verdict(False, f"taken more often than put: {', '.join(twice[:5])}: invariant broken")
        text = f"{made} items made, {eaten} eaten, {q.pills_got} end signals received"
        hang = cls.hang(model, now_ns)
        if hang:
            return Verdict(False, f"{text}; {hang}")
        if not final:
            return Verdict(None, text)
        left = q.unconsumed() - (q.pills_put - q.pills_got)
        stuck = [p.name for p in model.by_role("consumer") if p.alive or p.exit_code != 0]
        if left:
            return Verdict(False, f"{text}; {left} never eaten: invariant broken")
        if stuck:
            return Verdict(False, f"{text}; {', '.join(stuck)} did not finish: invariant broken")
        return Verdict(True, f"{text}; every item eaten exactly once and every consumer exited: invariant held")


LESSON = ProdCons
