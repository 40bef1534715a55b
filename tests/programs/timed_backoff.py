"""Two processes take their own lock, then try the other's for 2 s and back off if they cannot:
a correct back-off, no deadlock (each gives up, lets go, waits a little and tries again).

The first time, each holds its own lock a moment before it tries the other's, so that they meet."""

import random
import time
from multiprocessing import Lock, Process


def move(name, mine, theirs):
    first = True
    while True:
        with mine:
            if first:
                time.sleep(0.3)
                first = False
            if theirs.acquire(timeout=2):
                try:
                    print(f"{name} moved")
                    return
                finally:
                    theirs.release()
        time.sleep(random.uniform(0.05, 0.5))


if __name__ == "__main__":
    src_lock = Lock()
    dst_lock = Lock()
    left = Process(target=move, args=("left", src_lock, dst_lock), name="left")
    right = Process(target=move, args=("right", dst_lock, src_lock), name="right")
    left.start()
    right.start()
    left.join()
    right.join()
    print("both moved")
