"""Lines written in pieces: a row of dots that grows, then the word that ends it; a child does the same on stderr."""

import sys
import time
from multiprocessing import Process


def dots(stream, n):
    for _ in range(n):
        print(".", end=" ", file=stream, flush=True)
        time.sleep(0.3)
    print("done", file=stream)


if __name__ == "__main__":
    dots(sys.stdout, 5)
    child = Process(target=dots, args=(sys.stderr, 3))
    child.start()
    child.join()
    print("main again")
    sys.stdout.write("and a last line without its newline")
