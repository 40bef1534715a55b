"""Shared memory made and closed, never unlinked: it stays until the resource tracker removes it at the end."""

from multiprocessing import shared_memory

block = shared_memory.SharedMemory(create=True, size=64)
block.buf[:5] = b"hello"
block.close()  # but never block.unlink()
