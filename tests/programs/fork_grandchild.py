"""Under fork, a child starts a grandchild that takes a lock passed down from main."""

import multiprocessing as mp


def grandchild(lock):
    with lock:
        print("grandchild holds the lock")


def child(lock):
    p = mp.get_context("fork").Process(target=grandchild, args=(lock,))
    p.start()
    p.join()


if __name__ == "__main__":
    ctx = mp.get_context("fork")
    lock = ctx.Lock()
    p = ctx.Process(target=child, args=(lock,))
    p.start()
    p.join()
