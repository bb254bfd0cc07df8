"""Slowness on purpose, for the fault suite: a delaying TCP proxy in front of kube-apiserver, and a
webhook endpoint that answers after the registration's timeout."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from webhook.dev.processes import free_port


class DelayingProxy:
    """TCP on a loopback port, forwarded to ``upstream``; every chunk a client sends reaches the
    upstream ``delay`` seconds late (TLS passes through untouched: a kubeconfig only needs the port)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.delay = 0.0
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, delayed: bool) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                if delayed and self.delay:
                    time.sleep(self.delay)  # the fault itself: each request held back
                target.sendall(chunk)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def kubeconfig(self, original: Path, target: Path) -> Path:
        """A copy of ``original`` pointing at this proxy (the API server's certificate names 127.0.0.1)."""
        config = json.loads(original.read_text())
        for cluster in config["clusters"]:
            cluster["cluster"]["server"] = f"https://127.0.0.1:{self.port}"
        target.write_text(json.dumps(config))
        return target

    def close(self) -> None:
        self._closing.set()
        self._listener.close()
        for end in self._sockets:
            with contextlib.suppress(OSError):
                end.close()


class SlowWebhook:
    """An admission endpoint over TLS that answers every review after ``delay`` seconds, allowing it
    with a patch that marks the object: whether that patch is in a stored object shows whether the
    API server used the late answer."""

    MARK = "conformance.nsmigrate.io/late-answer"

    def __init__(self, cert_file: Path, key_file: Path, *, delay: float) -> None:
        self.delay = delay
        self.calls = 0
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                webhook.calls += 1
                time.sleep(webhook.delay)  # the fault itself: slower than the registration allows
                patch = [{"op": "add", "path": "/metadata/annotations", "value": {webhook.MARK: "applied"}}]
                body = json.dumps(
                    {
                        "apiVersion": "admission.k8s.io/v1",
                        "kind": "AdmissionReview",
                        "response": {
                            "uid": review["request"]["uid"],
                            "allowed": True,
                            "patchType": "JSONPatch",
                            "patch": base64.b64encode(json.dumps(patch).encode()).decode(),
                        },
                    }
                ).encode()
                with contextlib.suppress(OSError):  # the API server may have hung up by now
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
