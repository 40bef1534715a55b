"""terminate() of a process that holds a lock: nobody can ever take it again."""

import time
from multiprocessing import Lock, Process


def keep(lock, ready):
    with lock:
        ready.set()
        time.sleep(600)


if __name__ == "__main__":
    from multiprocessing import Event

    lock, ready = Lock(), Event()
    keeper = Process(target=keep, args=(lock, ready), name="keeper")
    keeper.start()
    ready.wait()
    keeper.terminate()  # it holds the lock
    keeper.join()
    print("lock taken again:", lock.acquire(timeout=1))
