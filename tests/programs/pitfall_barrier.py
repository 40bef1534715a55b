"""Barrier(3) with no timeout: one party fails before wait(); the other two wait there for ever."""

import time
from multiprocessing import Barrier, Process


def stage(b, i):
    time.sleep(0.2)
    if i == 2:
        raise RuntimeError("worker 2 failed to load its data")
    print(f"worker {i} at the barrier", flush=True)
    b.wait()
    print(f"worker {i} through")


if __name__ == "__main__":
    b = Barrier(3)
    ps = [Process(target=stage, args=(b, i)) for i in range(3)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print("all done")
