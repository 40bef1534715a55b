"""A Lock used as a one-shot gate: the child takes it and exits; main releases it later (legal for mp.Lock)."""

import time
from multiprocessing import Lock, Process


def closer(gate):
    gate.acquire()  # close the gate; ends without releasing it
    print("gate closed by child", flush=True)


if __name__ == "__main__":
    gate = Lock()
    p = Process(target=closer, args=(gate,))
    p.start()
    p.join()
    time.sleep(3)
    gate.release()  # reopen it
    with gate:
        print("main passed the gate")
