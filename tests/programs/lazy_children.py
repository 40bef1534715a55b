"""Two children (of a forkserver, or spawned: the start method is the first argument): one says how
many threads it has, the other waits on a queue nobody feeds while main joins it."""

import os
import sys
from multiprocessing import Process, Queue, set_start_method


def count():
    print("threads:", len(os.listdir("/proc/self/task")))


def consume(inbox):
    item = inbox.get()  # nobody puts anything
    print("ate", item)


if __name__ == "__main__":
    set_start_method(sys.argv[1])
    counter = Process(target=count, name="counter")
    counter.start()
    counter.join()
    inbox = Queue()
    consumer = Process(target=consume, args=(inbox,), name="consumer")
    consumer.start()
    consumer.join()
