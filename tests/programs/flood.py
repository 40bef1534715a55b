"""Takes and releases a lock as fast as it can: far more records than the dashboard's socket holds.

Writes ``started`` and ``done`` files (paths from argv), so a test can tell it
ran to its end while mpviz itself was stopped (SIGSTOP).
"""

import sys
from multiprocessing import Lock, Process
from pathlib import Path


def hammer(lock, n):
    for _ in range(n):
        lock.acquire()
        lock.release()


if __name__ == "__main__":
    started, done, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    lock = Lock()
    started.write_text("started")
    p = Process(target=hammer, args=(lock, n))
    p.start()
    p.join()
    done.write_text("done")
