"""Every kind of primitive, under the start method named on the command line."""

import multiprocessing as mp
import sys


def wait_on(cond, ready):
    with cond:
        ready.release()
        cond.wait()


def meet(barrier):
    barrier.wait()


def double(x):
    return 2 * x


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    cond = ctx.Condition()
    ready = ctx.Semaphore(0)
    waiters = [ctx.Process(target=wait_on, args=(cond, ready)) for _ in range(2)]
    for p in waiters:
        p.start()
    for _ in waiters:
        ready.acquire()
    with cond:
        cond.notify_all()
    for p in waiters:
        p.join()
    barrier = ctx.Barrier(3)
    meeting = [ctx.Process(target=meet, args=(barrier,)) for _ in range(3)]
    for p in meeting:
        p.start()
    for p in meeting:
        p.join()
    counter = ctx.Value("i", 0)
    with counter.get_lock():
        counter.value += 1
    with ctx.Pool(2) as pool:
        print(pool.map(double, range(6)))
        # Each worker ends on its own: the with's terminate() could end one a loaded machine had not
        # yet run (one worker did all six), gone before it was seen.
        pool.close()
        pool.join()
