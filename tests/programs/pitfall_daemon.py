"""A daemonic process tries to start a child of its own."""

from multiprocessing import Process


def grandchild():
    print("never runs")


def daemon():
    Process(target=grandchild).start()


if __name__ == "__main__":
    p = Process(target=daemon, daemon=True)
    p.start()
    p.join()
