"""The webhook under test, plus a no-op endpoint served by the very same stack: the floor.

    python -m bench.server [serve flags]  (as ``nsmigrate serve``)

``POST /noop`` goes through the very handler /mutate has (client check, decode, metrics, encode) with
a decision that is always "allowed", no patch: TLS, gunicorn, Flask and JSON, without nsmigrate's
decisions. The benchmark registers it with the API server exactly as /mutate is (bench/creates.py),
so it is never a production route.
"""

from __future__ import annotations

import sys

from flask import Flask

from webhook.cli import serve as cli
from webhook.core import review, settings
from webhook.http import server
from webhook.http.app import add_admission_endpoint
from webhook.kube.client import Kube
from webhook.runtime import process


class Noop:
    """A handler whose every answer is "allowed", no patch: the floor."""

    def handle(self, endpoint: str, admission: review.AdmissionRequest) -> review.Response:
        return review.allowed()


def with_noop(app: Flask) -> Flask:
    add_admission_endpoint(app, "noop", Noop())
    return app


def main(argv: list[str]) -> None:
    args = cli.serve_arguments().parse_args(argv[1:] if argv[:1] == ["serve"] else argv)
    config = settings.from_env(**cli.serve_overrides(args))
    server.check_client_verification(config)
    if config.cert_secret:
        process.certificate_keeper(config, Kube.connect(config.kubeconfig))
    server.WebhookServer(config, app_factory=lambda: with_noop(process.default_app(config))).run()


if __name__ == "__main__":
    main(sys.argv[1:])
