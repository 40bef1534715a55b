"""A child computes in a loop of its own (busy, waiting for nothing) while main joins it."""

import sys
from multiprocessing import Process


def spin(n):
    x = 0
    while True:
        x = (x * 31 + n) % 1000003  # never ends: mpviz stops it


if __name__ == "__main__":
    worker = Process(target=spin, args=(int(sys.argv[1]) if len(sys.argv) > 1 else 5,), name="spinner")
    worker.start()
    worker.join()
