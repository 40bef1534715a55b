"""Each worker prints while it holds the lock, three times: its lines belong between its acquire
and its release (a plain print, an unbuffered write, and one on stderr)."""

import multiprocessing as mp
import sys


def work(lock, i):
    for k in range(3):
        with lock:
            print(f"worker {i} has the lock, round {k}")
            sys.stderr.write(f"worker {i} still has it, round {k}\n")


if __name__ == "__main__":
    lock = mp.Lock()
    ps = [mp.Process(target=work, args=(lock, i)) for i in range(2)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print("main: done")
