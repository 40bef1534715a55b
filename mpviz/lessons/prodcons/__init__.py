"""Queue: producers, consumers and the end signal."""
