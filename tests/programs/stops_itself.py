"""A child stops itself (SIGSTOP) while it holds a lock; a sibling waits for the lock; main joins.
Only a SIGCONT from outside could resume it."""

import os
import signal
import time
from multiprocessing import Lock, Process


def hold(lock):
    with lock:
        print("holding, stopping", flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)


def wait(lock):
    time.sleep(0.3)
    with lock:
        print("got it")


if __name__ == "__main__":
    lock = Lock()
    workers = [Process(target=hold, args=(lock,), name="holder"), Process(target=wait, args=(lock,), name="waiter")]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
