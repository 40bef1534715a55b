"""Queue: the tutorial's one-way example, and the methods it explains."""
