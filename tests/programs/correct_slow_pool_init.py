"""A pool whose initializer takes 4 s (a model loaded, a connection made): its workers are busy starting."""

import multiprocessing as mp
import time


def init():
    time.sleep(4)


def work(x):
    return x + 1


if __name__ == "__main__":
    with mp.Pool(2, initializer=init) as pool:
        print(pool.map(work, range(4)))
