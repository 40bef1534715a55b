"""A pool's worker dies with its task: the pool starts another worker, the task is lost, and map() waits forever."""

import os
import signal
from multiprocessing import Pool


def square(x):
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return x * x


if __name__ == "__main__":
    with Pool(2) as pool:
        print(pool.map(square, range(6), chunksize=1))
