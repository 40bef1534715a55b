"""Event: the tutorial's traffic light."""
