"""Workers write into a Manager's dict."""

from multiprocessing import Manager, Process


def fill(shared, key):
    shared[key] = key * 10


if __name__ == "__main__":
    with Manager() as manager:
        shared = manager.dict()
        workers = [Process(target=fill, args=(shared, k)) for k in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        print(sorted(shared.items()))
