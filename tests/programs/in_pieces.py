"""Lines written in pieces: a row of dots that grows, then the word that ends it; a child does the same on stderr.

With an argument, a file's path: the row waits after its second dot until that file exists (a test
sees the row half written, however late a loaded machine lets it look)."""

import os
import sys
import time
from multiprocessing import Process


def dots(stream, n, gate=None):
    for i in range(n):
        print(".", end=" ", file=stream, flush=True)
        time.sleep(0.3)
        deadline = time.monotonic() + 300
        while i == 1 and gate and not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.05)
    print("done", file=stream)


if __name__ == "__main__":
    dots(sys.stdout, 5, sys.argv[1] if len(sys.argv) > 1 else None)
    child = Process(target=dots, args=(sys.stderr, 3))
    child.start()
    child.join()
    print("main again")
    sys.stdout.write("and a last line without its newline")
