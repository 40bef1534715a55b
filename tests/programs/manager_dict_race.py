"""A racy counter in a Manager dict: d['n'] = d['n'] + 1 from two processes, no lock; exit 1 if an update is lost."""

import multiprocessing as mp
import sys


def add(d, n):
    for _ in range(n):
        d["n"] = d["n"] + 1  # read, then write: another's write in between is lost


if __name__ == "__main__":
    with mp.Manager() as m:
        d = m.dict(n=0)
        ps = [mp.Process(target=add, args=(d, 10)) for _ in range(2)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print("n", d["n"])
        sys.exit(0 if d["n"] == 20 else 1)
