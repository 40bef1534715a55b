"""A program for the pictures of an attached run (scripts/record_samples.py): a crew of three workers,
one holding a lock the other two wait for; a consumer blocked on a queue; and a job that works hard
for two seconds every eight.

Started by the recorder, never by mpviz; it runs until it is killed.
"""

import multiprocessing as mp
import time


def work(lock):
    with lock:
        time.sleep(3600)


def crew(lock):
    workers = [mp.Process(target=work, args=(lock,)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def consume(q):
    q.get()


def burst():
    while True:
        time.sleep(6)
        started = time.monotonic()
        while time.monotonic() - started < 2:
            pass


if __name__ == "__main__":
    lock, q = mp.Lock(), mp.Queue()
    jobs = [mp.Process(target=crew, args=(lock,)), mp.Process(target=consume, args=(q,)), mp.Process(target=burst)]
    for job in jobs:
        job.start()
    print("ready", flush=True)
    for job in jobs:
        job.join()
