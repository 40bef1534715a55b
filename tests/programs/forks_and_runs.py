"""A child of os.fork that ends with sys.exit(5), and a Python run by subprocess that ends with
exit code 3, each reaped by main (os.waitpid, Popen.wait), and a command that is no Python."""

import os
import subprocess
import sys
import time

if __name__ == "__main__":
    pid = os.fork()
    if pid == 0:
        try:
            time.sleep(0.2)
            sys.exit(5)
        finally:
            print("forked child leaves", flush=True)
    _, status = os.waitpid(pid, 0)
    print("forked child:", os.waitstatus_to_exitcode(status))
    done = subprocess.run([sys.executable, "-c", "import sys; sys.exit(3)"])
    print("python child:", done.returncode)
    print("true:", subprocess.run(["true"]).returncode)
