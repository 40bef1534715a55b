"""Futures that fail (a Queue cannot be pickled), so nobody ever puts into the queue main waits on."""

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor


def square_into(q, x):
    q.put(x * x)


if __name__ == "__main__":
    q = mp.Queue()
    executor = ProcessPoolExecutor(2)
    futures = [executor.submit(square_into, q, x) for x in range(3)]
    print(sum(q.get() for _ in range(3)))
