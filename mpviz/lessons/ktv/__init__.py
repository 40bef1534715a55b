"""Semaphore: the tutorial's four mini-KTV rooms."""
