"""The caps are sliding windows: a burst across a window's edge counts in full."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arena.ratelimit import Cap, Usage, window_count

MINUTE_CAP = Cap(
    action="test", scope="key", seconds=60, setting="ARENA_API_REQUESTS_PER_MINUTE", message=""
)


@pytest.fixture(autouse=True)
def limit(settings):
    settings.ARENA_API_REQUESTS_PER_MINUTE = 10


def burst(identity: str, at: float, count: int) -> list[Usage]:
    return [window_count(MINUTE_CAP, identity, now=at) for _ in range(count)]


def test_a_burst_across_a_minute_boundary_passes_the_limit_once_not_twice():
    edge = 60 * 29_000_000  # some minute's start
    before = burst("edge", edge - 1, 10)  # the last second of one minute
    after = burst("edge", edge + 1, 10)  # the first second of the next

    assert not any(usage.exceeded for usage in before)
    assert all(usage.exceeded for usage in after)  # fixed windows would have let 10 more pass


def test_the_previous_minute_weighs_less_as_the_current_one_goes_on():
    start = 60 * 29_000_100
    burst("fade", start - 30, 10)

    assert window_count(MINUTE_CAP, "fade", now=start + 3).exceeded  # 1 + 10 x 0.95 > 10
    assert not window_count(MINUTE_CAP, "fade", now=start + 45).exceeded  # 2 + 10 x 0.25


def test_retry_after_is_when_the_next_request_would_pass():
    start = 60 * 29_000_200
    burst("wait", start - 30, 10)
    refused = window_count(MINUTE_CAP, "wait", now=start + 3)  # 1 + 10 x 0.95

    assert refused.exceeded
    assert refused.retry_after == 9  # at +12 s: 2 + 10 x 0.8 = 10, the limit
    assert not window_count(MINUTE_CAP, "wait", now=start + 3 + refused.retry_after).exceeded


@given(
    current=st.integers(min_value=1, max_value=50),
    previous=st.integers(min_value=0, max_value=50),
    elapsed=st.floats(min_value=0, max_value=59.99),
)
def test_waiting_retry_after_always_leaves_room_for_one_more(current, previous, elapsed):
    usage = Usage(cap=MINUTE_CAP, current=current, previous=previous, elapsed=elapsed)
    wait = usage.retry_after
    later = elapsed + wait
    if later < 60:
        estimate = current + 1 + previous * (1 - later / 60)
    else:  # the current window has become the previous one
        estimate = 1 + current * (1 - (later - 60) / 60)

    assert wait >= 0
    assert estimate <= 10 + 1e-9
    assert usage.remaining == max(0, 10 - -(-usage.used // 1))
