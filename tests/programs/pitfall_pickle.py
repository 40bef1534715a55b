"""A lambda as a target under spawn: it cannot be pickled to reach the child."""

import multiprocessing

if __name__ == "__main__":
    spawn = multiprocessing.get_context("spawn")
    p = spawn.Process(target=lambda: print("never"))
    p.start()
    p.join()
