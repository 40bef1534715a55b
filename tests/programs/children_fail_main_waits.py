"""Each worker fails before it puts its result: main waits for ever for results that died with them."""

import multiprocessing


def work(q, n):
    if n >= 0:
        raise ValueError(f"cannot do {n}")
    q.put(n)


if __name__ == "__main__":
    q = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=work, args=(q, n)) for n in range(2)]
    for w in workers:
        w.start()
    print(sorted(q.get() for _ in workers))
