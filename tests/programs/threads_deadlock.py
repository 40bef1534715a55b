"""Two threads of one child process take two threading locks in opposite orders: a deadlock."""

import threading
import time
from multiprocessing import Process

fork_lock = threading.Lock()
knife_lock = threading.Lock()


def alice():
    with fork_lock:
        time.sleep(0.3)
        with knife_lock:  # alice waits here
            pass


def bob():
    with knife_lock:
        time.sleep(0.3)
        with fork_lock:  # bob waits here
            pass


def dinner():
    threads = [threading.Thread(target=alice, name="alice"), threading.Thread(target=bob, name="bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    p = Process(target=dinner, name="dinner")
    p.start()
    p.join()
