"""The only process that would set the event fails first; its waiters wait for ever."""

import time
from multiprocessing import Event, Process


def setter(ready):
    time.sleep(0.2)
    config = {}
    config["port"]  # KeyError: it never gets to set()
    ready.set()


def waiter(ready):
    ready.wait()


if __name__ == "__main__":
    ready = Event()
    workers = [Process(target=setter, args=(ready,), name="setter")]
    workers += [Process(target=waiter, args=(ready,), name=f"waiter-{i}") for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
