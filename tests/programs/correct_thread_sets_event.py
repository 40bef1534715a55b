"""A correct program (plain exit 0) that mpviz must not call hung: correct_thread_sets_event."""

import threading
import time
from multiprocessing import Event

e = Event()


def setter():
    time.sleep(4)
    e.set()


threading.Thread(target=setter).start()
e.wait()
print("set")
