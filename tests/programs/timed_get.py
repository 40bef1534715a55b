"""A consumer waits 4 s for work nobody sends, gives up and ends: a timed wait, not a hang."""

import queue
from multiprocessing import Process, Queue


def consumer(inbox):
    try:
        inbox.get(timeout=4)
    except queue.Empty:
        print("no work arrived, giving up")


if __name__ == "__main__":
    inbox = Queue()
    p = Process(target=consumer, args=(inbox,), name="consumer")
    p.start()
    p.join()
    print(f"consumer exited with code {p.exitcode}")
