"""Serving TLS that follows the certificate files: a renewed certificate is used for every new
connection without a restart, while connections already open finish on the one they started with.

gunicorn asks for an SSLContext for each connection it accepts; ``ReloadingContext`` answers with one
built from the files as they are now, rebuilt only when they change.
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
    def __init__(self, cert_file: str, key_file: str) -> None:
        self.cert_file = Path(cert_file)
        self.key_file = Path(key_file)
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
        for path in (self.cert_file, self.key_file):
            found = os.stat(path)  # a Secret volume swaps a symlink: stat follows it to the new file
            stamp += [found.st_ino, found.st_mtime_ns, found.st_size]
        return tuple(stamp)

    def _build(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = MINIMUM_VERSION
        context.load_cert_chain(certfile=self.cert_file, keyfile=self.key_file)
        return context
