"""Helpers for code that runs inside a background task worker (``manage.py db_worker``)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def shutdown_requested() -> Iterator[threading.Event]:
    """An event set when the worker process is asked to stop (SIGTERM or SIGINT).

    ``manage.py db_worker`` answers a first SIGTERM by finishing the task it runs, which for
    a 500,000-row upload or a bulk action on every contact can take minutes. Long tasks
    watch this event instead and hand their job back to the queue at the next batch
    boundary. The worker's own handler still runs, so it exits once the task returns (and a
    second signal still stops it at once).
    """
    stopping = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopping
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        chained = previous[signum]
        if callable(chained):
            chained(signum, frame)
        elif chained != signal.SIG_IGN:  # no handler of its own: the default behaviour
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield stopping
    finally:
        for sig, chained in previous.items():
            signal.signal(sig, chained if chained is not None else signal.SIG_DFL)
