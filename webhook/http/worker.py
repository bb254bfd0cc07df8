"""The gunicorn worker: gthread, except that a connection idle after its TLS handshake waits in the
poller, not in a thread.

The API server's Go client dials a new connection for a review when none is idle; when another one
frees up first, it sends the review there and keeps the new connection idle for later. gthread
hands a new connection to a thread as soon as its handshake arrives, and the thread then blocks
reading a request that may not come for minutes. A burst of reviews thus pins every thread on such
spare connections and the reviews behind them time out (measured: 40 proxy deletions at once, 9
timed out after 5 s with 8 threads). Here a handshaken connection that has sent nothing yet goes to
the poller, as gthread does with keep-alive connections, and comes back when its request arrives.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers import gthread


class Worker(gthread.ThreadWorker):  # type: ignore[misc]
    """``handle`` runs in a pool thread. ``gthread._DEFER`` is gthread's own answer for "not ready: wait in the
    poller"; it is private, so gunicorn is pinned (constraints.txt) and tests/test_worker.py fails if it moves."""

    def handle(self, conn: Any) -> Any:
        if conn.initialized or not self.cfg.is_ssl:
            return super().handle(conn)
        if not conn.data_ready and not conn.wait_for_data(gthread.DEFAULT_WORKER_DATA_TIMEOUT):
            return gthread._DEFER
        try:
            conn.sock.setblocking(True)
            conn.init()  # the TLS handshake
        except (OSError, ValueError) as error:
            self.log.debug("TLS handshake failed: %s", error)
            return False  # gthread closes the connection
        conn.data_ready = False  # the handshake's bytes were what made it readable: is a request there yet?
        if conn.is_http2 or conn.sock.pending() or conn.wait_for_data(0):
            return super().handle(conn)
        return gthread._DEFER
