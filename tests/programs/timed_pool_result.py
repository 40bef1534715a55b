"""A pool task's callback raises: the result never arrives, and res.get(timeout=5) gives up.

(The callback's exception ends the pool's result-handler thread: nothing
comes back from the pool after that.)"""

import multiprocessing


def square(x):
    return x * x


def on_done(value):
    raise ValueError(f"cannot take {value}")


if __name__ == "__main__":
    with multiprocessing.Pool(1) as pool:
        for n in pool.imap(square, range(3)):  # (each next() gets its item: none gives up)
            print(f"imap {n}")
        res = pool.apply_async(square, (3,), callback=on_done)
        try:
            print(f"got {res.get(timeout=5)}")
        except multiprocessing.TimeoutError:
            print("no result within 5 s")
    print("done")
