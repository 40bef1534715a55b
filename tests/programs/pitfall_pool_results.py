"""A result asked for and never fetched: the `with` block's end terminates the pool and loses it."""

import time
from multiprocessing import Pool


def slow(n):
    time.sleep(0.5)
    return n * n


if __name__ == "__main__":
    with Pool(2) as pool:
        result = pool.apply_async(slow, (3,))
    print("the pool is gone")
