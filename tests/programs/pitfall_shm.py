"""Shared memory made and closed, never unlinked: it outlives the program."""

from multiprocessing import shared_memory

block = shared_memory.SharedMemory(create=True, size=64)
block.buf[:5] = b"hello"
block.close()  # but never block.unlink()
