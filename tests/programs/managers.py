"""A program's own BaseManager and multiprocessing's: a registered class, a Queue, a Namespace, a dict passed to a child."""

from multiprocessing import Manager, Process
from multiprocessing.managers import BaseManager


class Counter:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n += k
        return self.n


class CounterManager(BaseManager):
    pass


CounterManager.register("Counter", Counter)


def child(shared, inbox):
    shared["child"] = inbox.get()


if __name__ == "__main__":
    counters = CounterManager()
    counters.start()
    tally = counters.Counter()
    print("tally", tally.add(2), tally.add(3))
    counters.shutdown()
    with Manager() as manager:
        shared = manager.dict()
        inbox = manager.Queue()
        ns = manager.Namespace()
        ns.answer = 42
        inbox.put("hello")
        p = Process(target=child, args=(shared, inbox))
        p.start()
        p.join()
        print("shared", dict(shared), "answer", ns.answer)
