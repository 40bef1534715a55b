"""A child and a grandchild that sleep for good (for a test that kills mpviz); argv[1]: a start method."""

import multiprocessing
import sys
import time
from multiprocessing import Process


def sleep_long():
    time.sleep(3600)


def parent():
    p = Process(target=sleep_long)
    p.start()
    p.join()


if __name__ == "__main__":
    if sys.argv[1:]:
        multiprocessing.set_start_method(sys.argv[1])
    Process(target=parent).start()
    Process(target=sleep_long).start()
