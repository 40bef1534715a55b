"""A failure no order decides: the child fails the first time it runs beside a file 'ran' not yet there.

As a race on os.urandom would, but for a test: the file says whether it fails (delete it: it fails once
more), so that explore's run fails and its replays do not, every time."""

import multiprocessing as mp
import os
import sys


def check(q, marker):
    first = not os.path.exists(marker)
    with open(marker, "w"):
        pass
    q.put(first)


if __name__ == "__main__":
    marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ran")
    q = mp.Queue()
    p = mp.Process(target=check, args=(q, marker))
    p.start()
    bad = q.get()
    p.join()
    sys.exit(1 if bad else 0)
