"""A child and a grandchild that sleep for good (for a test that kills mpviz)."""

import time
from multiprocessing import Process


def sleep_long():
    time.sleep(3600)


def parent():
    p = Process(target=sleep_long)
    p.start()
    p.join()


if __name__ == "__main__":
    Process(target=parent).start()
    Process(target=sleep_long).start()
