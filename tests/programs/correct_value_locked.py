"""A correct program (plain exit 0) that mpviz must not warn of: every read-modify-write of the
shared Value and Array is under get_lock(), and one process alone reads then writes another Value."""

from multiprocessing import Array, Process, Value


def add(total, counts):
    for _ in range(500):
        with total.get_lock():
            total.value += 1
        with counts.get_lock():
            counts[0] += 1


def mine(own):
    for _ in range(100):
        own.value += 1  # nobody else writes it: no update to lose


if __name__ == "__main__":
    total, counts, own = Value("i", 0), Array("i", 2), Value("i", 0)
    workers = [Process(target=add, args=(total, counts)) for _ in range(3)] + [Process(target=mine, args=(own,))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print("total", total.value, counts[0], own.value)
