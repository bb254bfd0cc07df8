"""The webhook under test, plus a no-op endpoint served by the very same stack: the floor.

    python -m bench.server [serve flags]  (as ``nsmigrate serve``)

``POST /noop`` decodes the review exactly as /mutate does and answers "allowed": TLS, gunicorn,
Flask and JSON, without nsmigrate's decisions.
"""

from __future__ import annotations

import sys

from flask import Flask, Response, jsonify, request

from webhook.cli import serve as cli
from webhook.core import review, settings
from webhook.http import server
from webhook.kube.client import Kube


def with_noop(app: Flask) -> Flask:
    def noop() -> Response:
        admission = review.decode(request.get_data(cache=False))
        return jsonify(review.encode(admission["uid"], review.allowed()))

    app.add_url_rule("/noop", "noop", noop, methods=["POST"])
    return app


def main(argv: list[str]) -> None:
    args = cli.serve_arguments().parse_args(argv[1:] if argv[:1] == ["serve"] else argv)
    config = settings.from_env(**cli.serve_overrides(args))
    server.check_client_verification(config)
    if config.cert_secret:
        server.certificate_keeper(config, Kube.connect(config.kubeconfig))
    server.WebhookServer(config, app_factory=lambda: with_noop(server.default_app(config))).run()


if __name__ == "__main__":
    main(sys.argv[1:])
