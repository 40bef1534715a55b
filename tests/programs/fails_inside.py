"""Errors raised inside multiprocessing's objects: their tracebacks, as the program sees them.

A child releases a lock it never took; another gets from an empty queue with
a timeout; main asks a manager's dict for a key it does not have.
"""

import queue
from multiprocessing import Lock, Manager, Process, Queue


def release_twice(lock):
    lock.release()


def get_nothing(q):
    try:
        q.get(timeout=0.05)
    except queue.Empty:
        print("empty, as expected")
        raise


if __name__ == "__main__":
    for target, args in ((release_twice, (Lock(),)), (get_nothing, (Queue(),))):
        p = Process(target=target, args=args)
        p.start()
        p.join()
        print(target.__name__, "exit code", p.exitcode)
    with Manager() as manager:
        shared = manager.dict()
        print(shared["missing"])
