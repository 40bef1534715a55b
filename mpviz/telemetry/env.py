"""The names of the environment entries a watched program's processes read (a module of its own:
the start of a run needs them, not the reporter's imports)."""

# Where a process sends its records: the dashboard's socket, named in the
# environment of a watched program (a lesson's processes get it in their config).
ENDPOINT_ENV = "MPVIZ_ENDPOINT"
# A watched program's speed: the path of a file holding one double, mapped by every process.
SPEED_ENV = "MPVIZ_SPEED_FILE"
# A scheduled run of a watched program: every process takes turns; the value seeds ``random``.
TURNS_ENV = "MPVIZ_TURNS"
# Set for a watched program's main only, and taken out of its environment by the hook before the
# program runs: main prints to the dashboard on the pipes it was started with (see inject.py).
MAIN_ENV = "MPVIZ_MAIN"

# The pipes the run's processes print to the dashboard on, by inode number (space-separated): each
# process adds its own to those it inherited.  A process started on one of them (a multiprocessing
# child, a subprocess left to print where its parent does) prints to the dashboard on a pipe of its own.
PIPES_ENV = "MPVIZ_PIPES"
