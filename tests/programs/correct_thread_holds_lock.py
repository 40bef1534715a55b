"""A correct program (plain exit 0) that mpviz must not call hung: correct_thread_holds_lock."""

import threading
import time
from multiprocessing import Lock

lock = Lock()


def keeper():
    with lock:
        time.sleep(4)


t = threading.Thread(target=keeper)
t.start()
time.sleep(0.2)
with lock:
    print("got it")
t.join()
