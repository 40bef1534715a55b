"""A pool whose initializer raises: each worker dies at start and is replaced, for ever; map() never returns."""

import multiprocessing as mp


def init():
    raise ConnectionError("cannot reach the database")


def work(x):
    return x + 1


if __name__ == "__main__":
    with mp.Pool(2, initializer=init) as pool:
        print(pool.map(work, range(4)))
    print("done")
