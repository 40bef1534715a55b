"""A lambda given to a pool's map: a pool's tasks are pickled to reach its workers (under any start
method), and a lambda cannot be; map() raises the PicklingError."""

from multiprocessing import get_context

if __name__ == "__main__":
    with get_context("spawn").Pool(2) as pool:
        print(pool.map(lambda x: x + 1, range(3)))
