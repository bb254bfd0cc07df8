import itertools

import pytest

from webhook.core.waiting import poll_until


def test_returns_the_first_truthy_answer() -> None:
    answers = iter([None, 0, "", "ready", "later"])
    assert poll_until(lambda: next(answers), timeout=5, interval=0) == "ready"


def test_times_out_naming_what_was_awaited() -> None:
    calls = itertools.count()
    with pytest.raises(TimeoutError, match=r"the proxy not met within 0\.01 s"):
        poll_until(lambda: next(calls) < 0, timeout=0.01, interval=0.001, what="the proxy")


def test_an_error_from_the_probe_ends_the_wait_at_once() -> None:
    def hopeless() -> bool:
        raise RuntimeError("the process exited")

    with pytest.raises(RuntimeError, match="exited"):
        poll_until(hopeless, timeout=60)
