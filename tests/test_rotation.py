import datetime
import ssl
from pathlib import Path

from cryptography import x509

from webhook.core import certs
from webhook.core.certs import write_atomically
from webhook.http.tls import ReloadingContext
from webhook.kube.rotation import Policy, issue, needs_renewal

NOW = datetime.datetime.now(datetime.UTC)
POLICY = Policy(dns_names=("nsmigrate.nsmigrate.svc",), serving_days=90, ca_days=365)


def serial(pem: bytes) -> int:
    return x509.load_pem_x509_certificate(pem).serial_number


def test_first_issue_makes_a_ca_and_a_serving_certificate_for_the_names() -> None:
    data = issue({}, policy=POLICY, now=NOW)
    assert not needs_renewal(data["tls.crt"], dns_names=POLICY.dns_names, now=NOW, policy=POLICY)
    assert data["ca-bundle.crt"] == data["ca.crt"]


def test_renewal_is_due_30_days_before_expiry() -> None:
    data = issue({}, policy=POLICY, now=NOW)
    assert not needs_renewal(
        data["tls.crt"], dns_names=POLICY.dns_names, now=NOW + datetime.timedelta(days=59), policy=POLICY
    )
    assert needs_renewal(
        data["tls.crt"], dns_names=POLICY.dns_names, now=NOW + datetime.timedelta(days=61), policy=POLICY
    )


def test_renewal_is_due_for_new_names_and_for_garbage() -> None:
    data = issue({}, policy=POLICY, now=NOW)
    assert needs_renewal(data["tls.crt"], dns_names=("other.svc",), now=NOW, policy=POLICY)
    assert needs_renewal(b"not a certificate", dns_names=POLICY.dns_names, now=NOW, policy=POLICY)


def test_renewal_keeps_a_ca_that_outlives_the_new_certificate() -> None:
    first = issue({}, policy=POLICY, now=NOW)
    second = issue(first, policy=POLICY, now=NOW + datetime.timedelta(days=61))
    assert second["ca.crt"] == first["ca.crt"]
    assert serial(second["tls.crt"]) != serial(first["tls.crt"])


def test_a_ca_near_its_end_is_replaced_and_kept_in_the_bundle() -> None:
    first = issue({}, policy=POLICY, now=NOW)
    later = NOW + datetime.timedelta(days=300)
    second = issue(first, policy=POLICY, now=later)
    assert second["ca.crt"] != first["ca.crt"]
    assert second["ca-bundle.crt"] == second["ca.crt"] + first["ca.crt"]


def test_reloading_context_serves_the_new_pair_after_the_files_change(tmp_path: Path) -> None:
    ca = certs.make_ca()
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"

    def install() -> bytes:
        pair = certs.make_serving_cert(ca, dns_names=["localhost"])
        write_atomically(key, pair.key_pem)
        write_atomically(cert, pair.cert_pem, mode=0o644)
        return pair.cert_pem

    install()
    context = ReloadingContext(str(cert), str(key))
    first = context()
    assert context() is first
    assert first.minimum_version == ssl.TLSVersion.TLSv1_2
    install()
    assert context() is not first
    assert context.loads == 2


def test_a_half_replaced_pair_keeps_the_previous_context(tmp_path: Path) -> None:
    ca = certs.make_ca()
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    pair = certs.make_serving_cert(ca, dns_names=["localhost"])
    write_atomically(key, pair.key_pem)
    write_atomically(cert, pair.cert_pem)
    context = ReloadingContext(str(cert), str(key))
    first = context()
    write_atomically(key, certs.make_serving_cert(ca, dns_names=["localhost"]).key_pem)  # the cert is not there yet
    assert context() is first
