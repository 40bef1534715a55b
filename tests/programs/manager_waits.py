"""A child waits on every kind of a Manager's object a call can wait on; main lets it go each time."""

from multiprocessing import Manager, Process, Queue


def waiter(ready, ev, lock, rlock, sem, cond, inbox, full, jobs, barrier):
    ev.wait()  # wait: event
    with lock:  # wait: lock
        pass
    rlock.acquire()  # wait: rlock
    rlock.release()
    sem.acquire()  # wait: sem
    sem.acquire(False)  # told not to block: no wait
    with cond:  # wait: cond acquire
        ready.put("cond")
        cond.wait()  # wait: cond
    inbox.get()  # wait: get
    full.put("second")  # wait: put
    jobs.join()  # wait: join
    barrier.wait()  # wait: barrier


if __name__ == "__main__":
    with Manager() as manager:
        ev, lock, rlock = manager.Event(), manager.Lock(), manager.RLock()
        sem, cond, barrier = manager.Semaphore(0), manager.Condition(), manager.Barrier(2)
        inbox, full, jobs = manager.Queue(), manager.Queue(1), manager.JoinableQueue()
        full.put("first")
        jobs.put("job")
        ready = Queue()
        lock.acquire()
        child = Process(target=waiter, args=(ready, ev, lock, rlock, sem, cond, inbox, full, jobs, barrier))
        child.start()
        ev.set()
        lock.release()
        sem.release()
        ready.get()  # the child holds the condition, about to wait on it
        with cond:
            cond.notify()
        inbox.put("item")
        full.get()
        jobs.get()
        jobs.task_done()
        barrier.wait()
        child.join()
        print("child exited with", child.exitcode)
