"""No `if __name__ == "__main__":` under spawn: every child imports this module again and starts another."""

import multiprocessing


def work():
    print("working")


spawn = multiprocessing.get_context("spawn")
p = spawn.Process(target=work)
p.start()
p.join()
