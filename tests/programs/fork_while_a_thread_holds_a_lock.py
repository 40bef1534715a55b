"""fork while a thread holds a threading.Lock: the child inherits it held and waits for ever."""

import multiprocessing as mp
import threading
import time

cache_lock = threading.Lock()
holding = threading.Event()


def refresher():
    with cache_lock:
        holding.set()
        time.sleep(1.0)  # holds it while main forks


def child():
    print("child wants the cache lock", flush=True)
    with cache_lock:
        print("child got it")


if __name__ == "__main__":
    mp.set_start_method("fork")
    t = threading.Thread(target=refresher)
    t.start()
    holding.wait()
    p = mp.Process(target=child)
    p.start()
    t.join()
    p.join()
    print("done")
