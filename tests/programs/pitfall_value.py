"""Four processes add to a shared Value and to an Array's item outside get_lock(): updates are lost."""

from multiprocessing import Array, Process, Value


def add(total, counts):
    for _ in range(2000):
        total.value += 1  # a read, then a write: each locked alone
        counts[0] += 1


if __name__ == "__main__":
    total, counts = Value("i", 0), Array("i", 2)
    workers = [Process(target=add, args=(total, counts)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print("total", total.value, "of", 8000)
