"""A notify() sent before anyone waits is lost: the waiter started after it waits for ever."""

import multiprocessing as mp


def waiter(ready):
    with ready:
        ready.wait()  # the notify came before: nothing wakes this
    print("woke")


if __name__ == "__main__":
    ready = mp.Condition()
    with ready:
        ready.notify()
    child = mp.Process(target=waiter, args=(ready,))
    child.start()
    child.join()
