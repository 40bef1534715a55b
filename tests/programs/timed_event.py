"""A child waits 4 s for an event nobody sets, main joins it for at most 4 s: both waits end by themselves."""

from multiprocessing import Event, Process


def waiter(go):
    print(f"set: {go.wait(timeout=4)}")


if __name__ == "__main__":
    go = Event()
    p = Process(target=waiter, args=(go,), name="waiter")
    p.start()
    p.join(timeout=4)
    p.join()
    print(f"waiter exited with code {p.exitcode}")
