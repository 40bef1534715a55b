"""A consumer waits on a queue that nobody ever feeds; main joins it."""

from multiprocessing import Process, Queue


def consume(inbox):
    while True:
        item = inbox.get()  # nobody puts anything
        print("ate", item)


if __name__ == "__main__":
    inbox = Queue()
    consumer = Process(target=consume, args=(inbox,), name="consumer")
    consumer.start()
    consumer.join()
