"""Asking the dev cluster's CoreDNS as a pod of a namespace would: its search path, CNAMEs followed."""

from __future__ import annotations

import dns.exception
import dns.message
import dns.query
import dns.rdatatype

SEARCH = ("{namespace}.svc.{domain}", "svc.{domain}", "{domain}")


def resolve(
    host: str, *, namespace: str, port: int, domain: str = "cluster.local", server: str = "127.0.0.1"
) -> str | None:
    """The address ``host`` resolves to from a pod in ``namespace`` (ndots 5: search path first), or None.
    ``server`` is where CoreDNS is reached (another address than loopback from a network namespace)."""
    if host.endswith("."):
        return _address(host, port, server)
    names = [f"{host}.{suffix.format(namespace=namespace, domain=domain)}." for suffix in SEARCH]
    if host.count(".") >= 5:
        names.insert(0, f"{host}.")
    else:
        names.append(f"{host}.")
    for name in names:
        if (address := _address(name, port, server)) is not None:
            return address
    return None


def _address(name: str, port: int, server: str, depth: int = 0) -> str | None:
    """An A record of ``name``, following CNAMEs (an ExternalName Service answers with one)."""
    if depth > 8:
        return None
    try:
        answer = dns.query.udp(dns.message.make_query(name, dns.rdatatype.A), server, port=port, timeout=2)
    except dns.exception.DNSException:
        return None
    target = None
    for rrset in answer.answer:
        for record in rrset:
            if rrset.rdtype == dns.rdatatype.A:
                return str(record.address)
            if rrset.rdtype == dns.rdatatype.CNAME:
                target = str(record.target)
    return _address(target, port, server, depth + 1) if target else None
