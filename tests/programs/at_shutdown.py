"""What is written at shutdown: the resource tracker's warning about leaked shared memory,
an atexit handler's line, and what the interpreter says about a __del__ that fails."""

import atexit
from multiprocessing import shared_memory


class Grumpy:
    def __del__(self):
        raise RuntimeError("cannot let go")


def goodbye():
    print("atexit: goodbye")


if __name__ == "__main__":
    atexit.register(goodbye)
    leaked = shared_memory.SharedMemory(create=True, size=64)
    leaked.close()  # closed here, never unlinked: the resource tracker warns at shutdown
    grumpy = Grumpy()
    print("main is done")
