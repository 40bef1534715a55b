"""main holds a threading.Lock and forks: in the child, a new thread waits for the copy, and the
child's main thread (the one that forked) releases it: correct, no thread is missing."""

import os
import threading
import time

held = threading.Lock()

if __name__ == "__main__":
    held.acquire()
    pid = os.fork()
    if pid == 0:

        def worker():
            with held:
                print("worker got it", flush=True)

        t = threading.Thread(target=worker)
        t.start()
        time.sleep(0.3)
        held.release()
        t.join()
        os._exit(0)
    held.release()
    os.waitpid(pid, 0)
    print("done")
