from pathlib import Path

import pytest

from tests.peers import certificate
from webhook.core import settings
from webhook.core.clientauth import API_SERVER_CLIENT_NAME, refusal, subject_names
from webhook.http.server import check_client_verification

ALLOWED = ("kube-apiserver-admission", "admission.example")


@pytest.mark.parametrize(
    ("presented", "expected"),
    [
        pytest.param(None, "no-certificate", id="none-presented"),
        pytest.param({}, "no-certificate", id="presented-but-not-verified"),
        pytest.param(certificate("kube-apiserver-admission"), None, id="allowed-common-name"),
        pytest.param(certificate("x", dns_names=("admission.example",)), None, id="allowed-dns-name"),
        pytest.param(certificate("kube-apiserver"), "subject-not-allowed", id="other-common-name"),
        pytest.param(
            certificate("x", dns_names=("kube-apiserver-admission.evil",)), "subject-not-allowed", id="suffix"
        ),
    ],
)
def test_only_an_allowed_subject_is_heard(presented: dict[str, object] | None, expected: str | None) -> None:
    assert refusal(presented, allowed=ALLOWED) == expected


def test_subject_names_are_the_common_names_and_dns_alternative_names() -> None:
    presented = certificate("cn", dns_names=("a.example", "b.example"))
    presented["subjectAltName"] += (("IP Address", "10.0.0.1"),)
    assert subject_names(presented) == {"cn", "a.example", "b.example"}


def test_subject_names_come_comma_separated_from_the_environment() -> None:
    read = settings.from_env({"NSMIGRATE_CLIENT_SUBJECT_NAMES": "a, b.example"})
    assert read.client_subject_names == ("a", "b.example")
    assert settings.from_env(settings.to_env(read)) == read
    assert settings.Settings().client_subject_names == (API_SERVER_CLIENT_NAME,)


def test_verification_with_no_allowed_name_is_refused() -> None:
    with pytest.raises(ValueError, match="CLIENT_SUBJECT_NAMES is empty"):
        settings.from_env({"NSMIGRATE_CLIENT_SUBJECT_NAMES": ""})


def test_the_server_does_not_start_without_a_client_ca_while_verification_is_on(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NSMIGRATE_CLIENT_CA_FILE is not set"):
        check_client_verification(settings.Settings())
    with pytest.raises(ValueError, match="cannot be loaded"):
        check_client_verification(settings.Settings(client_ca_file=str(tmp_path / "missing.crt")))
    check_client_verification(settings.Settings(client_verification=False))
