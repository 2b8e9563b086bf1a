"""The HTTP client's arithmetic, with a fake clock and no HTTP (a clock, not a mock of our code): token buckets
(burst, reservations, drain, learned rates, threads), the limiter registry, the retry policy and the call log's
bound."""

from __future__ import annotations

import threading

import pytest
from client_operations import GET_ORDER, GET_ORDERS
from emu_helpers import fresh_process_state  # noqa: F401 (autouse: each test starts as a new process would)

from sqlspapi.http.calllog import CallLog, CallRecord
from sqlspapi.http.ratelimit import Limiter, TokenBucket
from sqlspapi.http.retry import backoff_seconds, retry_allows
from sqlspapi.settings.connstr import RetryPolicy

# ------------------------------------------------------------------------------------- bucket arithmetic


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_bucket_burst_then_waits_one_refill_per_call():
    clock = FakeClock()
    bucket = TokenBucket(2.0, 3, clock=clock, sleep=clock.sleep)
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() == pytest.approx(0.5)
    assert bucket.acquire() == pytest.approx(0.5)
    clock.now += 10
    assert bucket.tokens == pytest.approx(3.0)  # capped at burst


def test_bucket_reservations_queue_in_order():
    clock = FakeClock()
    bucket = TokenBucket(4.0, 1, clock=clock, sleep=clock.sleep)
    assert bucket.reserve() == 0.0
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.25, 0.5, 0.75])


def test_bucket_drain_makes_next_call_wait():
    clock = FakeClock()
    bucket = TokenBucket(1.0, 10, clock=clock, sleep=clock.sleep)
    bucket.drain()
    assert bucket.reserve() == pytest.approx(1.0)


def test_learned_rate_refills_faster_without_adding_burst():
    clock = FakeClock()
    bucket = TokenBucket(0.0167, 20, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        bucket.acquire()
    assert bucket.observe_limit_header("16.7") is True
    assert bucket.rate == pytest.approx(16.7)
    assert bucket.burst == 20
    assert bucket.tokens == pytest.approx(0.0)
    assert bucket.reserve() == pytest.approx(1 / 16.7)
    clock.now += 100
    assert bucket.tokens == pytest.approx(20.0)
    assert bucket.observe_limit_header("16.7") is False
    for bad in ("", None, "abc", "0", "-1", "nan"):
        assert bucket.observe_limit_header(bad) is False
    assert bucket.rate == pytest.approx(16.7)


def test_bucket_is_thread_safe():
    clock = FakeClock()
    bucket = TokenBucket(10.0, 5, clock=clock, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(50):
            w = bucket.reserve()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 400 reservations at a frozen clock: 5 free, then one every 0.1 s, each distinct.
    assert sorted(waits) == pytest.approx([0.0] * 5 + [0.1 * k for k in range(1, 396)])


def test_limiter_registry_per_operation():
    lim = Limiter()  # one per account (each AccountRuntime owns one)
    assert lim.bucket(GET_ORDERS) is lim.bucket(GET_ORDERS)
    assert lim.bucket(GET_ORDERS) is not Limiter().bucket(GET_ORDERS)
    assert lim.bucket(GET_ORDERS) is not lim.bucket(GET_ORDER)
    assert lim.bucket(GET_ORDERS).rate == pytest.approx(0.0167)
    assert lim.bucket(GET_ORDERS).burst == 20


def test_retry_policy_arithmetic():
    none = RetryPolicy(mode="None")
    anyp = RetryPolicy(mode="RetryAny", count_max=2, multiply_wait=True, first_wait_ms=100)
    match = RetryPolicy(mode="RetryWhenStatusCodeMatch", status_codes=frozenset({503}), count_max=3,
                        multiply_wait=False, first_wait_ms=50)
    assert not retry_allows(none, 429, 0)
    assert not retry_allows(none, None, 0)
    assert retry_allows(anyp, 429, 0) and retry_allows(anyp, 500, 1) and retry_allows(anyp, None, 1)
    assert not retry_allows(anyp, 429, 2)
    assert not retry_allows(anyp, 400, 0)
    assert retry_allows(match, 503, 2) and not retry_allows(match, 429, 0) and retry_allows(match, None, 0)
    assert [backoff_seconds(anyp, n) for n in range(3)] == pytest.approx([0.1, 0.2, 0.4])
    assert [backoff_seconds(match, n) for n in range(3)] == pytest.approx([0.05, 0.05, 0.05])


def test_call_log_statements_and_bound():
    log = CallLog(maxlen=3)

    def rec(i):
        return CallRecord(f"op{i}", "GET", "/p", {}, 200, 0.0, 0.0, 0.0, None)

    log.append(rec(0))
    log.mark_statement()
    assert log.last_statement() == []
    for i in range(1, 5):
        log.append(rec(i))
    assert len(log) == 3
    assert [r.operation for r in log] == ["op2", "op3", "op4"]
    assert [r.operation for r in log.last_statement()] == ["op2", "op3", "op4"]  # bounded by what is kept
    marker = log.mark_statement()
    log.append(rec(5))
    assert [r.operation for r in log.last_statement()] == ["op5"]
    assert [r.operation for r in log.since(marker)] == ["op5"]
    assert log[-1].operation == "op5"
