"""Lines written in pieces, many of them at once, and a child's last line left unended: each shown
whole, in its place (main's line of 30 pieces, its 40 lines of 2 000 characters in one write, the
child's "child partial" before its exit)."""

import multiprocessing as mp
import sys


def child():
    print("child partial", end="")


if __name__ == "__main__":
    for i in range(30):
        print(f"{i},", end="", flush=True)
    print(" done")
    sys.stdout.write("".join(f"{i:04d}" + "x" * 1996 + "\n" for i in range(40)))
    sys.stdout.flush()
    p = mp.Process(target=child)
    p.start()
    p.join()
    print("main: joined")
