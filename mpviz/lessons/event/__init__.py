"""Event: the tutorial's four examples of is_set(), set(), wait() and clear()."""
