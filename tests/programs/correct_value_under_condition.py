"""Condition.wait_for a shared counter to reach a target; notify_all from producers."""

import time
from multiprocessing import Condition, Process, Value


def produce(cond, count, i):
    for _ in range(3):
        time.sleep(0.1)
        with cond:
            count.value += 1
            cond.notify_all()


def watch(cond, count, target):
    with cond:
        ok = cond.wait_for(lambda: count.value >= target, timeout=5)
    print(f"watcher saw {count.value} (target {target}) ok={ok}")


if __name__ == "__main__":
    cond, count = Condition(), Value("i", 0)
    ws = [Process(target=watch, args=(cond, count, t)) for t in (3, 9)]
    ps = [Process(target=produce, args=(cond, count, i)) for i in range(3)]
    for p in ws + ps:
        p.start()
    for p in ws + ps:
        p.join()
    print("final", count.value)
