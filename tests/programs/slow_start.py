"""A program to attach to (tests/test_attach.py) while its child is still starting: a spawned child
imports this module first, and here that import waits until the file named by MPVIZ_TEST_GO exists;
then the child runs its target and blocks on a queue, its parent joining it.

Started by the test, never by mpviz; it runs until it is killed.
"""

import multiprocessing as mp
import os
import time

if __name__ == "__mp_main__":  # a spawned child, importing the program before it runs its target
    while not os.path.exists(os.environ["MPVIZ_TEST_GO"]):
        time.sleep(0.05)


def work(q):
    q.get()


if __name__ == "__main__":
    mp.set_start_method("spawn")
    q = mp.Queue()
    child = mp.Process(target=work, args=(q,))
    child.start()
    print("ready", child.pid, flush=True)
    child.join()
