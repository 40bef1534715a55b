"""A child stuck in one long C call that holds the GIL (a regex that backtracks for ever): it
cannot answer for its stacks."""

import re
from multiprocessing import Process


def match():
    re.match(r"(a+)+$", "a" * 40 + "!")  # exponential backtracking, inside the C regex engine


if __name__ == "__main__":
    worker = Process(target=match, name="regex")
    worker.start()
    worker.join()
