"""A program to attach to (tests/test_attach.py): a consumer blocked on a queue that nobody else
holds any more — main let go of it as soon as the consumer had it — and main asleep.

Started by the test, never by mpviz; it runs until it is killed.
"""

import multiprocessing as mp
import time


def consume(q):
    q.get()


if __name__ == "__main__":
    mp.set_start_method("fork")
    q = mp.Queue()
    consumer = mp.Process(target=consume, args=(q,))
    consumer.start()
    del q  # main lets go of the queue (start() let go of the consumer's arguments)
    print("ready", consumer.pid, flush=True)
    time.sleep(3600)
