"""One task of a map never returns while the others did."""

import time
from multiprocessing import Pool


def task(n):
    if n == 3:
        time.sleep(600)  # this one never comes back
    return n * n


if __name__ == "__main__":
    with Pool(2) as pool:
        print(pool.map(task, range(6)))
