"""Writing Kubernetes Events off the admission path: a bounded queue drained by one thread.

An admission answer never waits for an Event, and a failing API call only costs a log line.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from webhook.core import logs
from webhook.core.fields import JsonObject

Write = Callable[[JsonObject], None]


class EventRecorder:
    def __init__(self, write: Write, *, capacity: int = 1000) -> None:
        self._write = write
        self._queue: queue.Queue[JsonObject] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def emit(self, event: JsonObject) -> None:
        """Queue an Event for writing; never blocks (a full queue drops it, with a log line)."""
        self._start()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            logs.event("event_dropped", level=logging.WARNING, reason=event.get("reason"), object=_name(event))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued Event was written or failed; False if that took too long."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._drain, name="nsmigrate-events", daemon=True)
                self._thread.start()

    def _drain(self) -> None:
        while True:
            event = self._queue.get()
            try:
                self._write(event)
            except Exception:  # an Event that cannot be written must not take the writer down
                logging.getLogger(logs.LOGGER).exception("cannot write event %s", _name(event))
            finally:
                self._queue.task_done()


def _name(event: JsonObject) -> str:
    metadata = event.get("metadata") or {}
    return f"{metadata.get('namespace')}/{metadata.get('name')}"
