"""Forks while another thread of the parent reports all the time: every child must start and end."""

import threading
from multiprocessing import Lock, get_context

done = threading.Event()


def churn(lock):
    while not done.is_set():
        with lock:
            pass


def child(i):
    pass


if __name__ == "__main__":
    ctx = get_context("fork")
    lock = Lock()
    helper = threading.Thread(target=churn, args=(lock,))
    helper.start()
    for i in range(40):
        p = ctx.Process(target=child, args=(i,))
        p.start()
        p.join()
    done.set()
    helper.join()
    print("40 children started and ended")
