"""A correct program (plain exit 0) that mpviz must not call hung: correct_slow_unpickle."""

import time
from multiprocessing import Process, Queue


class Slow:
    def __init__(self):
        self.x = 1

    def __setstate__(self, state):
        time.sleep(4)


def take(q):
    print("took", type(q.get()).__name__)


if __name__ == "__main__":
    q = Queue()
    p = Process(target=take, args=(q,))
    p.start()
    time.sleep(0.5)  # the child waits in its get first
    q.put(Slow())
    p.join()
