"""mpviz: watch Python multiprocessing lessons run as real processes."""

__version__ = "0.1.0"
