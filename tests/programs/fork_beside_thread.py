"""A process forks while another thread of it is alive and has used a lock."""

import multiprocessing as mp
import threading

started = threading.Event()
go = threading.Event()
lock = threading.Lock()


def helper():
    with lock:
        started.set()
    go.wait()


def child():
    print("child ran")


if __name__ == "__main__":
    thread = threading.Thread(target=helper, name="helper")
    thread.start()
    started.wait()
    p = mp.get_context("fork").Process(target=child)
    p.start()
    p.join()
    go.set()
    thread.join()
