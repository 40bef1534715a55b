"""One child waits in socket.recv, another in subprocess's wait: waits no multiprocessing primitive sees."""

import socket
import subprocess
import sys
from multiprocessing import Process


def listen(sock):
    data = sock.recv(1024)  # the other end never sends
    print("got", data)


def build():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    child.wait()  # it sleeps for ten minutes


if __name__ == "__main__":
    ours, theirs = socket.socketpair()
    workers = [Process(target=listen, args=(theirs,), name="listener"), Process(target=build, name="builder")]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
