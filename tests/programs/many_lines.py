"""Many lines from several processes in turn, on stdout and stderr: far more than a pipe holds."""

import sys
from multiprocessing import Process

LINES = 3000


def write(who):
    for i in range(LINES):
        print(f"{who} line {i} of {LINES}")
        if i % 100 == 0:
            print(f"{who} at {i}", file=sys.stderr)


if __name__ == "__main__":
    write("main")
    for n in range(3):
        child = Process(target=write, args=(f"child {n}",))
        child.start()
        child.join()
    print("main has seen its children end")
