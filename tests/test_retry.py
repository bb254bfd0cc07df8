import pytest

from webhook.kube.client import ApiError, retry_on_conflict


def conflicts_then(answer: str, *, conflicts: int) -> list[str]:
    calls: list[str] = []

    def attempt() -> str:
        calls.append("try")
        if len(calls) <= conflicts:
            raise ApiError(409, "the object has been modified")
        return answer

    calls.append(retry_on_conflict(attempt, what="service foobar/servicea"))
    return calls


def test_a_conflict_is_retried_until_the_write_goes_through() -> None:
    assert conflicts_then("done", conflicts=2) == ["try", "try", "try", "done"]


def test_endless_conflicts_give_up_saying_what_kept_changing() -> None:
    with pytest.raises(ApiError, match=r"service foobar/servicea: kept changing, 5 attempts") as raised:
        conflicts_then("never", conflicts=5)
    assert raised.value.status == 409


def test_any_other_error_is_not_retried() -> None:
    calls = []

    def attempt() -> None:
        calls.append(1)
        raise ApiError(422, "invalid")

    with pytest.raises(ApiError, match="invalid"):
        retry_on_conflict(attempt, what="x")
    assert calls == [1]
