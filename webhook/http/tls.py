"""Serving TLS that follows the certificate files: a renewed certificate is used for every new
connection without a restart, while connections already open finish on the one they started with.

gunicorn asks for an SSLContext for each connection it accepts; ``ReloadingContext`` answers with one
built from the files as they are now, rebuilt only when they change.

With a client CA, the server asks every client for a certificate without requiring one
(``CERT_OPTIONAL``): probes and Prometheus connect without one, and the app refuses /mutate and
/validate to them. A certificate that is presented must verify against the client CA, or the
handshake fails; ``on_untrusted`` is told, so that the refusal is counted.
"""

from __future__ import annotations

import os
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


class ReloadingContext:
    def __init__(self, cert_file: str, key_file: str, *, client_ca_file: str = "") -> None:
        self.cert_file = Path(cert_file)
        self.key_file = Path(key_file)
        self.client_ca_file = Path(client_ca_file) if client_ca_file else None
        self.on_untrusted: Callable[[], None] = lambda: None
        """Called for each handshake refused because the client's certificate did not verify."""
        self._lock = threading.Lock()
        self._stamp: tuple[int, ...] = ()
        self._context: ssl.SSLContext | None = None
        self.loads = 0

    def __call__(
        self, config: Any = None, default_factory: Callable[[], ssl.SSLContext] | None = None
    ) -> ssl.SSLContext:
        """The gunicorn ``ssl_context`` hook (both arguments unused: the files are ours to watch)."""
        stamp = self._files_stamp()
        with self._lock:
            if self._context is None or stamp != self._stamp:
                try:
                    self._context = self._build()
                except (ssl.SSLError, OSError):
                    # Caught between the key and the certificate being replaced: keep the pair we
                    # have until both files match again.
                    if self._context is None:
                        raise
                    return self._context
                self._stamp = stamp
                self.loads += 1
            return self._context

    def _files_stamp(self) -> tuple[int, ...]:
        stamp: list[int] = []
        for path in (self.cert_file, self.key_file, *([self.client_ca_file] if self.client_ca_file else [])):
            found = os.stat(path)  # a Secret volume swaps a symlink: stat follows it to the new file
            stamp += [found.st_ino, found.st_mtime_ns, found.st_size]
        return tuple(stamp)

    def _build(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = MINIMUM_VERSION
        context.load_cert_chain(certfile=self.cert_file, keyfile=self.key_file)
        if self.client_ca_file:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(cafile=self.client_ca_file)
            context.sslsocket_class = _counting_socket(lambda: self.on_untrusted())  # noqa: PLW0108 - late bound
        return context


def _counting_socket(on_untrusted: Callable[[], None]) -> type[ssl.SSLSocket]:
    """SSL sockets that report a handshake refused for an untrusted client certificate (gunicorn
    completes the handshake with an explicit ``do_handshake``)."""

    class CountingSocket(ssl.SSLSocket):
        def do_handshake(self, block: bool = False) -> None:
            try:
                super().do_handshake(block)
            except ssl.SSLError as error:
                if error.reason == "CERTIFICATE_VERIFY_FAILED":
                    on_untrusted()
                raise

    return CountingSocket
