"""threading locks and a fork, correctly: one free at the fork, one held by the thread that forks
(the child's copy is its own to release)."""

import multiprocessing as mp
import threading

free = threading.Lock()
mine = threading.Lock()


def child():
    with free:
        print("child took the free lock")
    mine.release()  # held by this thread since the fork: its own
    with mine:
        print("child took its copy again")


if __name__ == "__main__":
    mp.set_start_method("fork")
    t = threading.Thread(target=lambda: free.acquire() and free.release())
    t.start()
    t.join()
    with mine:
        p = mp.Process(target=child)
        p.start()
    p.join()
    print("done", p.exitcode)
