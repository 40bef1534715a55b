"""concurrent.futures with a spawn context."""

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor


def cube(x):
    return x**3


if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as ex:
        print(sum(ex.map(cube, range(20))))
