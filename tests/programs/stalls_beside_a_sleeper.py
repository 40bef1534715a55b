"""main waits on a queue nobody feeds, while a thread of its own sleeps: the thread might still
put, so mpviz cannot be sure this hangs (it stops it after --hang-timeout)."""

import threading
import time
from multiprocessing import Queue

if __name__ == "__main__":
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
    Queue().get()
