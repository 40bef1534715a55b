"""A correct program (plain exit 0) that mpviz must not call hung: correct_timer_sets_event."""

import threading
from multiprocessing import Event, Process


def wait(e):
    e.wait()
    print("woke")


if __name__ == "__main__":
    e = Event()
    p = Process(target=wait, args=(e,))
    p.start()
    threading.Timer(4, e.set).start()
    p.join()
