"""A child ends by os._exit(3) (no word of its own) while its parent sleeps; then a pool whose
workers all end that way, which concurrent.futures reports as BrokenProcessPool."""

import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Barrier, Process


def meet(barrier) -> None:
    barrier.wait()


def die(x: int = 0) -> None:
    os._exit(3)


if __name__ == "__main__":
    child = Process(target=die)
    child.start()
    time.sleep(3)  # the child is a zombie all this while: ended, not yet joined
    print("woke", flush=True)
    child.join()
    print("child code", child.exitcode, flush=True)
    both = Barrier(2)
    # Both workers up before either dies: the executor ends the other at the first death, and a
    # loaded machine may not have run it yet (gone before it was seen).
    with ProcessPoolExecutor(2, initializer=meet, initargs=(both,)) as pool:
        try:
            print(list(pool.map(die, range(4))))
        except Exception as error:
            print("pool:", type(error).__name__, flush=True)
