import datetime
from typing import cast

import pytest
import urllib3

from webhook.kube.client import Kube
from webhook.kube.lease import LeaderElector, may_take

NOW = datetime.datetime(2026, 11, 24, 12, 0, 0, tzinfo=datetime.UTC)


def spec(holder: str, renewed_seconds_ago: float, duration: int = 15) -> dict[str, object]:
    renewed = NOW - datetime.timedelta(seconds=renewed_seconds_ago)
    return {
        "holderIdentity": holder,
        "leaseDurationSeconds": duration,
        "renewTime": renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


@pytest.mark.parametrize(
    ("lease", "may"),
    [
        pytest.param({}, True, id="never-held"),
        pytest.param(spec("", 1), True, id="released"),
        pytest.param(spec("me", 1), True, id="mine"),
        pytest.param(spec("other", 1), False, id="held-by-another"),
        pytest.param(spec("other", 14.9), False, id="just-before-expiry"),
        pytest.param(spec("other", 15), True, id="expired"),
        pytest.param({"holderIdentity": "other", "leaseDurationSeconds": 15}, True, id="no-renew-time"),
    ],
)
def test_may_take(lease: dict[str, object], may: bool) -> None:
    assert may_take(lease, identity="me", now=NOW) is may


class Unreachable:
    """An API server that cannot be reached: every request fails below HTTP."""

    def request(self, *args: object, **kwargs: object) -> None:
        raise urllib3.exceptions.NewConnectionError(None, "connection refused")  # type: ignore[arg-type]


def test_an_unreachable_api_server_costs_the_leadership_not_the_elector() -> None:
    elector = LeaderElector(cast(Kube, Unreachable()), namespace="n", name="l", identity="me", lease_seconds=3)
    elector.leader = True
    assert elector.attempt() is False
    assert elector.leader is False
