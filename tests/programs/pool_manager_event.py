"""A Pool task waits on a Manager's Event that nobody sets: map() never returns."""

from multiprocessing import Manager, Pool


def task(args):
    go, n = args
    go.wait()  # nobody ever sets it
    return n * n


if __name__ == "__main__":
    with Manager() as manager:
        go = manager.Event()
        with Pool(2) as pool:
            print(pool.map(task, [(go, n) for n in range(4)]))
