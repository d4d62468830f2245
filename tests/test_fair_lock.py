"""The write gate of the SQLite engine serves waiting writers in arrival order."""

from __future__ import annotations

import threading
import time

import pytest

from retailhub.db import FairLock


def test_waiters_are_served_in_arrival_order() -> None:
    lock = FairLock()
    lock.acquire()
    served: list[int] = []

    def writer(n: int) -> None:
        lock.acquire()
        served.append(n)
        lock.release()

    threads = []
    for n in range(5):
        thread = threading.Thread(target=writer, args=(n,))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # arrive one after the other
    lock.release()
    for thread in threads:
        thread.join(5)
    assert served == [0, 1, 2, 3, 4]


def test_a_waiter_that_gives_up_does_not_block_the_queue() -> None:
    lock = FairLock()
    lock.acquire()
    with pytest.raises(TimeoutError):
        lock.acquire(timeout=0.05)
    got = threading.Event()

    def writer() -> None:
        lock.acquire()
        got.set()
        lock.release()

    thread = threading.Thread(target=writer)
    thread.start()
    lock.release()
    assert got.wait(5)
    thread.join(5)
