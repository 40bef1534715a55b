"""A child ends at once; its parent runs on for a while before it joins it: a zombie meanwhile."""

import sys
import time
from multiprocessing import Process


def quick():
    pass


if __name__ == "__main__":
    child = Process(target=quick, name="quick")
    child.start()
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 8)  # the child ended long ago; nobody joined it
    child.join()
