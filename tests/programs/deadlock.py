"""Two processes take two locks in opposite orders: a lock-order deadlock."""

import time
from multiprocessing import Lock, Process


def alice(fork_lock, knife_lock):
    with fork_lock:
        time.sleep(0.3)
        with knife_lock:
            print("alice eats")


def bob(fork_lock, knife_lock):
    with knife_lock:
        time.sleep(0.3)
        with fork_lock:
            print("bob eats")


if __name__ == "__main__":
    fork_lock = Lock()
    knife_lock = Lock()
    a = Process(target=alice, args=(fork_lock, knife_lock), name="alice")
    b = Process(target=bob, args=(fork_lock, knife_lock), name="bob")
    a.start()
    b.start()
    a.join()
    b.join()
