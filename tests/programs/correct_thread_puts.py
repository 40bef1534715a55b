"""A correct program (plain exit 0) that mpviz must not call hung: correct_thread_puts."""

import threading
import time
from multiprocessing import Queue

q = Queue()


def putter():
    time.sleep(4)
    q.put("late")


threading.Thread(target=putter).start()
print(q.get())
