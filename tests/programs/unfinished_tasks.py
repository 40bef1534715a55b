"""A worker takes the one item and never calls task_done(): main waits in q.join() for ever."""

from multiprocessing import JoinableQueue, Process


def work(q):
    q.get()  # no task_done()


if __name__ == "__main__":
    q = JoinableQueue()
    q.put(1)
    worker = Process(target=work, args=(q,))
    worker.start()
    worker.join()
    q.join()
