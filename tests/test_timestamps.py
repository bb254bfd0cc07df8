import datetime

import pytest

from webhook.core.timestamps import parse, rfc3339

MOMENT = datetime.datetime(2026, 11, 27, 7, 8, 9, 123456, tzinfo=datetime.UTC)


def test_time_and_micro_time_are_written_as_the_api_server_does() -> None:
    assert rfc3339(MOMENT) == "2026-11-27T07:08:09Z"
    assert rfc3339(MOMENT, micro=True) == "2026-11-27T07:08:09.123456Z"


@pytest.mark.parametrize("micro", [False, True])
def test_what_is_written_reads_back(micro: bool) -> None:
    assert parse(rfc3339(MOMENT, micro=micro)) == (MOMENT if micro else MOMENT.replace(microsecond=0))


@pytest.mark.parametrize("text", ["", None, "yesterday", 12])
def test_anything_else_is_none(text: object) -> None:
    assert parse(text) is None


def test_a_naive_log_time_is_taken_as_utc() -> None:
    assert parse("2026-11-27T07:08:09") == MOMENT.replace(microsecond=0)
