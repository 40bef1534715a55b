"""The textbook counter: a Value updated under a separate multiprocessing.Lock (correct: no lost update)."""

from multiprocessing import Lock, Process, Value


def add(counter, lock, n):
    for _ in range(n):
        with lock:
            counter.value += 1


if __name__ == "__main__":
    counter, lock = Value("i", 0), Lock()
    ps = [Process(target=add, args=(counter, lock, 200)) for _ in range(3)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print("counter", counter.value)
