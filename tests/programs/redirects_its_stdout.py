"""Points its stdout at a file with os.dup2, prints, and puts it back: the line is in the file."""

import os
import sys

saved = os.dup(1)
with open("out.txt", "w") as f:
    sys.stdout.flush()
    os.dup2(f.fileno(), 1)
    print("into the file")
    sys.stdout.flush()
    os.dup2(saved, 1)
print("back on stdout")
with open("out.txt") as f:
    print("the file says:", f.read().strip())
