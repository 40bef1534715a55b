"""pool.map where one task takes 7 s while the others return at once: correct, only slow (a pool seen quiet for 5 s is warned of while it is)."""

import multiprocessing as mp
import time


def work(x):
    if x == 0:
        time.sleep(7)
    return x * x


if __name__ == "__main__":
    with mp.Pool(2) as pool:
        print(sum(pool.map(work, range(8), chunksize=1)))
