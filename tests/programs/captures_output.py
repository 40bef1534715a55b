"""A program that reads what its Python subprocesses print (captured, through a pipe, into a file),
and whose multiprocessing child does the same: watched, each must read exactly what it reads plainly.
A subprocess left to print where its parent prints is shown as its own output."""

import multiprocessing
import os
import subprocess
import sys
import tempfile

CHILD = "import sys; print('version 1.2.3'); print('warn', file=sys.stderr)"


def reads(who: str) -> None:
    got = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    print(f"{who}: captured {got.stdout!r} {got.stderr!r}")
    print(f"{who}: check_output {subprocess.check_output([sys.executable, '-c', CHILD], text=True)!r}")
    with subprocess.Popen(
        [sys.executable, "-c", "print(input().upper())"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as upper:
        out, _ = upper.communicate("abc")
    print(f"{who}: communicate {out!r}")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "log")
        with open(path, "w") as log:
            subprocess.run([sys.executable, "-c", "print('to the log')"], stdout=log, check=True)
        with open(path) as log:
            print(f"{who}: file {log.read()!r}")


if __name__ == "__main__":
    reads("main")
    child = multiprocessing.Process(target=reads, args=("child",))
    child.start()
    child.join()
    subprocess.run([sys.executable, "-c", "print('left to print')"], check=True)
    print("done")
