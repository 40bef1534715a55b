"""The same counter in a Manager dict, each read and write under a Manager's Lock: no update is lost."""

import multiprocessing as mp
import sys


def add(d, lock, n):
    for _ in range(n):
        with lock:  # the proxied lock's holder is known to the scheduler: the other waits for it
            d["n"] = d["n"] + 1


if __name__ == "__main__":
    with mp.Manager() as m:
        d, lock = m.dict(n=0), m.Lock()
        ps = [mp.Process(target=add, args=(d, lock, 5)) for _ in range(2)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print("n", d["n"])
        sys.exit(0 if d["n"] == 10 else 1)
