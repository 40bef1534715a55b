"""A program that looks at what multiprocessing gave it: what it prints is the same plain and watched.

Reprs, types, modules and names, isinstance against the standard classes,
time.sleep as a value (pickled, copied, compared, handed to a pool), and the
errors each raises.
"""

import copy
import multiprocessing
import multiprocessing.managers
import multiprocessing.pool
import multiprocessing.queues
import multiprocessing.synchronize
import pickle
import sys
import time
from multiprocessing import Lock, Pool, Process, Queue


def show(what, value):
    print(f"{what}: {value!r} / {type(value).__module__}.{type(value).__qualname__}")


def child(q):
    q.put(repr(multiprocessing.current_process()).split(" pid=")[0])


if __name__ == "__main__":
    ctx = multiprocessing.get_context()
    show("context", ctx)
    show("fork context", multiprocessing.get_context("fork"))
    for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "Event", "Queue", "Process", "Pool"):
        print(f"multiprocessing.{name}: {getattr(multiprocessing, name)!r}"[:60])
    lock = Lock()
    show("lock", lock)
    show("rlock", multiprocessing.RLock())
    show("semaphore", multiprocessing.Semaphore(2))
    show("bounded", multiprocessing.BoundedSemaphore(2))
    show("condition", multiprocessing.Condition())
    show("event", multiprocessing.Event())
    show("barrier", multiprocessing.Barrier(2))
    q = Queue()
    show("queue", q)
    show("joinable", multiprocessing.JoinableQueue())
    show("simple", multiprocessing.SimpleQueue())
    show("value", multiprocessing.Value("i", 3))
    show("array", multiprocessing.Array("i", 3))
    a, b = multiprocessing.Pipe()
    show("pipe end", a)
    print(
        "isinstance:", isinstance(lock, multiprocessing.synchronize.Lock), isinstance(q, multiprocessing.queues.Queue)
    )
    p = Process(target=child, args=(q,))
    show("process", p)
    p.start()
    print("child says:", q.get())
    p.join()
    with Pool(1) as pool:
        show("pool", pool)
        print("isinstance pool:", isinstance(pool, multiprocessing.pool.Pool))
        print("pool.apply(time.sleep):", pool.apply(time.sleep, (0.1,)))
        print("map_async of sleep:", pool.map_async(time.sleep, [0.01, 0.02]).get())
    with multiprocessing.Manager() as manager:
        show("manager", manager)
        print("isinstance manager:", isinstance(manager, multiprocessing.managers.SyncManager))
        d = manager.dict()
        show("dict proxy", type(d))
        d["k"] = 1
        print("proxy repr:", repr(d))
        show("list proxy", type(manager.list()))
    print("time.sleep:", repr(time.sleep), time.sleep.__module__, time.sleep.__qualname__, time.sleep.__name__)
    print("pickled:", pickle.loads(pickle.dumps(time.sleep)) is time.sleep)
    print("copied:", copy.copy(time.sleep) is time.sleep, copy.deepcopy(time.sleep) is time.sleep)
    print("compared:", time.sleep == time.sleep, time.sleep in {time.sleep})
    for bad in (-1, "x", None):
        try:
            time.sleep(bad)
        except Exception as exc:
            print(f"time.sleep({bad!r}): {type(exc).__name__}: {exc}")
    print("sleep returns:", time.sleep(0))
    print("stdout is a", type(sys.stdout).__name__)
