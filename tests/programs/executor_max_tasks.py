"""ProcessPoolExecutor(max_tasks_per_child=3): each worker leaves after its third task, its result
sent; Python 3.11 does not start the workers that should replace them, and map waits for ever."""

import os
from concurrent.futures import ProcessPoolExecutor


def pid_of(x):
    return x, os.getpid()


if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=2, max_tasks_per_child=3) as ex:
        pids = {p for _, p in ex.map(pid_of, range(12))}
    print("recycled workers used:", len(pids))
