"""The one leader loop: passes on a change, on becoming leader and on resync; only while leading;
one failed write neither stops the others nor the loop."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from webhook.core.waiting import poll_until
from webhook.runtime.loop import LeaderLoop


@dataclass(frozen=True)
class Step:
    verb: str
    namespace: str
    name: str
    reason: str = "test"


class Clock:
    """A clock the test moves by hand; each reading is counted (the loop reads it on every idle wake-up)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.readings = threading.Semaphore(0)

    def __call__(self) -> float:
        self.readings.release()
        return self.now


def nothing() -> list[Step]:
    return []


def ignore(step: Step) -> None:
    pass


def test_a_step_writes_every_action_only_while_leading() -> None:
    written: list[Step] = []
    leader = threading.Event()
    loop = LeaderLoop(
        "test",
        plan=lambda: [Step("create", "a", "x")],
        write=written.append,
        is_leader=leader.is_set,
        resync_seconds=60,
    )
    assert loop.step() is None
    assert written == []
    leader.set()
    assert loop.step() == [Step("create", "a", "x")]
    assert written == [Step("create", "a", "x")]


def test_a_failed_write_does_not_stop_the_others_and_asks_for_another_pass() -> None:
    attempts: list[str] = []

    def write(step: Step) -> None:
        attempts.append(step.name)
        if step.name == "bad":
            raise ConnectionError("boom")

    steps = [Step("create", "a", "bad"), Step("create", "a", "good")]
    loop = LeaderLoop("test", plan=lambda: steps, write=write, is_leader=lambda: True, resync_seconds=60)
    loop.step()
    assert attempts == ["bad", "good"]
    assert loop.wake.is_set()


def test_a_following_pass_tells_the_plan_to_forget() -> None:
    forgotten: list[bool] = []
    loop = LeaderLoop(
        "test",
        plan=nothing,
        write=ignore,
        is_leader=lambda: False,
        resync_seconds=60,
        on_follow=lambda: forgotten.append(True),
    )
    loop.step()
    assert forgotten == [True]


def test_only_watched_kinds_wake_it() -> None:
    loop = LeaderLoop(
        "test", plan=nothing, write=ignore, is_leader=lambda: True, resync_seconds=60, watched=frozenset({"Service"})
    )
    loop.nudge("ConfigMap")
    assert not loop.wake.is_set()
    loop.nudge("Service")
    assert loop.wake.is_set()


def test_it_passes_on_resync_by_its_clock_and_on_a_nudge_but_not_in_between() -> None:
    clock = Clock()
    passes: list[int] = []

    loop = LeaderLoop(
        "test",
        plan=nothing,
        write=ignore,
        is_leader=lambda: True,
        resync_seconds=30,
        clock=clock,
        on_pass=lambda _: passes.append(1),
    )
    stop = threading.Event()
    runner = threading.Thread(target=loop.run, args=(stop,))
    runner.start()
    try:
        poll_until(lambda: len(passes) == 1, timeout=5, interval=0.01, what="the pass of a new leader")
        seen = len(passes)
        loop.nudge()
        poll_until(lambda: len(passes) == seen + 1, timeout=5, interval=0.01, what="the pass of a change")
        while clock.readings.acquire(blocking=False):  # the readings so far
            pass
        for _ in range(3):  # three more wake-ups of the loop, no change heard, no resync due
            assert clock.readings.acquire(timeout=5)
        assert len(passes) == seen + 1
        clock.now += 31  # a resync is due by the loop's clock, whatever the wall clock says
        poll_until(lambda: len(passes) == seen + 2, timeout=5, interval=0.01, what="the pass of a resync")
    finally:
        stop.set()
        loop.nudge()
        runner.join()
