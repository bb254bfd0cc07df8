"""``nsmigrate certs``: a CA and a serving certificate with the SANs given."""

from __future__ import annotations

import argparse

from webhook.core import certs


def run(args: argparse.Namespace) -> int:
    if not args.dns and not args.ip:
        args.dns = ["localhost"]
        args.ip = ["127.0.0.1"]
    ca = certs.make_ca()
    ca_files = ca.write(args.out, "ca")
    serving_files = certs.make_serving_cert(ca, dns_names=args.dns, ip_addresses=args.ip, days=args.days).write(
        args.out, "tls"
    )
    for path in (*ca_files, *serving_files):
        print(path)
    return 0
