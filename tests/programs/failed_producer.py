"""A producer that dies of an error: its consumer, main, waits for results that never come."""

import multiprocessing as mp


def adder(results):
    for item in range(10):
        if item == 7:
            raise ValueError(f"cannot handle {item}")
        results.put(item + 1)


if __name__ == "__main__":
    results = mp.Queue()
    mp.Process(target=adder, args=(results,)).start()
    print([results.get() for _ in range(10)])
