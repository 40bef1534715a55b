"""A program already running when mpviz attaches to it (tests/test_attach.py): a consumer blocked
on a queue nobody feeds, a parent joining its child, that child asleep, and a process that spins.

    python attach_me.py [fork|spawn]

Started by the test, never by mpviz; it runs until it is killed.
"""

import multiprocessing as mp
import sys
import time


def consume(q):
    q.get()  # nobody ever puts


def nap():
    time.sleep(3600)


def parent():
    child = mp.Process(target=nap)
    child.start()
    child.join()


def spin():
    n = 0
    while True:
        n += 1


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "fork")
    q = mp.Queue()
    workers = [mp.Process(target=consume, args=(q,)), mp.Process(target=parent), mp.Process(target=spin)]
    for w in workers:
        w.start()
    print("ready", *(w.pid for w in workers), flush=True)  # consume, parent, spin
    for w in workers:
        w.join()
