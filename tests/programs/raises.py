"""A child that raises: its traceback is its output, its exit code 1."""

from multiprocessing import Process


def fail():
    raise ValueError("no such ticket")


if __name__ == "__main__":
    p = Process(target=fail)
    p.start()
    p.join()
    print("child exit code", p.exitcode)
