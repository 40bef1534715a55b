"""Workers take jobs from a JoinableQueue, but mark only the even ones done: main's join() never returns."""

from multiprocessing import JoinableQueue, Process


def worker(jobs):
    while True:
        job = jobs.get()
        if job is None:
            jobs.task_done()
            break
        print("did", job, flush=True)
        if job % 2 == 0:
            jobs.task_done()


if __name__ == "__main__":
    jobs = JoinableQueue()
    workers = [Process(target=worker, args=(jobs,), daemon=True) for _ in range(2)]
    for w in workers:
        w.start()
    for j in range(6):
        jobs.put(j)
    for _ in workers:
        jobs.put(None)
    jobs.join()
    print("all jobs done")
