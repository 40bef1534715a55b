"""A child holds a lock while it waits for a subprocess; a sibling waits for the lock; main joins.
Nothing in the program can end the subprocess's wait, but it may end by itself: no progress, no hang."""

import subprocess
import time
from multiprocessing import Lock, Process


def build(lock):
    with lock:
        subprocess.run(["sleep", "600"])  # (not Python: mpviz does not watch it)


def test(lock):
    time.sleep(0.3)
    with lock:
        print("tested")


if __name__ == "__main__":
    lock = Lock()
    workers = [Process(target=build, args=(lock,), name="builder"), Process(target=test, args=(lock,), name="tester")]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
