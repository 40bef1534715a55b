"""A Manager's queue filled by a pool's workers (each through its own proxy, named q) and emptied by main."""

import multiprocessing as mp


def producer(q, n):
    for i in range(3):
        q.put((n, i))
    return n


if __name__ == "__main__":
    with mp.Manager() as manager:
        results = manager.Queue()
        with mp.Pool(2) as pool:
            for r in [pool.apply_async(producer, (results, n)) for n in range(4)]:
                r.get()
        got = [results.get() for _ in range(12)]
        print("collected", len(got), "items")
