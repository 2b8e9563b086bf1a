"""Account runtimes: every connection of one seller account in the process shares its tokens, buckets and facts.

Against the real emulator: two clients made from the same credentials (two connections) share one LWA token and
one rate-limit bucket per operation; another seller account has its own.
"""

from __future__ import annotations

import threading
import time

import pytest
from emu_helpers import fresh_process_state, settings_for  # noqa: F401 (fresh_process_state is autouse)

from sqlspapi.definitions.schema import OperationSpec
from sqlspapi.http.client import Client
from sqlspapi.http.runtime import AccountRuntime, reset_runtimes, runtime_for

emulator = pytest.importorskip("sqlspapi.emulator")

PARTICIPATIONS = OperationSpec("getMarketplaceParticipations", "sellers", "v1", "GET",
                               "/sellers/v1/marketplaceParticipations", 0.016, 15)
LWA = "lwaToken"
OTHER_SELLER = "Atzr|second-seller"


@pytest.fixture
def emu():
    with emulator.start(orders=10, time_scale=1000) as e:
        yield e


def test_two_connections_of_one_account_share_one_runtime_and_one_token(emu):
    first, second = Client(settings_for(emu)), Client(settings_for(emu))
    assert first.runtime is second.runtime is runtime_for(settings_for(emu))
    first.call(PARTICIPATIONS)
    second.call(PARTICIPATIONS)
    assert emu.calls.count(LWA) == 1
    assert first.runtime.lwa_requests == 1
    assert first.access_token() == second.access_token()


def test_another_refresh_token_is_another_account(emu):
    emu.add_account(OTHER_SELLER)
    mine, theirs = Client(settings_for(emu)), Client(settings_for(emu, RefreshToken=OTHER_SELLER))
    assert mine.runtime is not theirs.runtime
    assert mine.bucket(PARTICIPATIONS) is not theirs.bucket(PARTICIPATIONS)
    mine.call(PARTICIPATIONS)
    theirs.call(PARTICIPATIONS)
    assert emu.calls.count(LWA) == 2
    assert mine.access_token() != theirs.access_token()


def test_second_connection_waits_on_the_first_ones_bucket():
    # getMarketplaceParticipations at time scale 100: 1.6 requests/s, burst 15. RetryMode=None: a 429 would raise.
    with emulator.start(orders=10, time_scale=100) as emu:
        first = Client(settings_for(emu, RetryMode="None"))
        second = Client(settings_for(emu, RetryMode="None"))
        assert first.bucket(PARTICIPATIONS) is second.bucket(PARTICIPATIONS)
        for _ in range(PARTICIPATIONS.burst):
            first.call(PARTICIPATIONS)
        assert all(r.throttle_wait == 0 for r in first.calls)
        second.call(PARTICIPATIONS)  # the first connection spent the burst: this one waits for a refill
        assert second.calls[-1].throttle_wait > 0
        assert emu.calls.count("getMarketplaceParticipations", 429) == 0
        # another seller account has buckets of its own
        emu.add_account(OTHER_SELLER)
        other = Client(settings_for(emu, RefreshToken=OTHER_SELLER, RetryMode="None"))
        other.call(PARTICIPATIONS)
        assert other.calls[-1].throttle_wait == 0


def test_memo_computes_once_under_concurrent_threads(emu):
    runtime = Client(settings_for(emu)).runtime
    barrier = threading.Barrier(8)
    computed: list[int] = []
    results: list[object] = []
    lock = threading.Lock()

    def factory() -> list[str]:
        computed.append(1)
        time.sleep(0.05)  # keep the other threads arriving while it computes
        return ["ATVPDKIKX0DER"]

    def worker():
        barrier.wait()
        value = runtime.memo("marketplaces", factory)
        with lock:
            results.append(value)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(computed) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)
    # another connection of the account sees the same fact; another fact is computed on its own
    assert Client(settings_for(emu)).runtime.memo("marketplaces", lambda: ["never"]) is results[0]
    assert runtime.memo("other", lambda: 42) == 42


def test_memo_keeps_nothing_when_the_factory_fails(emu):
    runtime = Client(settings_for(emu)).runtime

    def failing() -> int:
        raise RuntimeError("Sellers API unreachable")

    with pytest.raises(RuntimeError):
        runtime.memo("marketplaces", failing)
    assert runtime.memo("marketplaces", lambda: 7) == 7


def test_reset_runtimes_starts_as_a_new_process(emu):
    before = Client(settings_for(emu))
    before.call(PARTICIPATIONS)
    reset_runtimes()
    after = Client(settings_for(emu))
    assert after.runtime is not before.runtime
    after.call(PARTICIPATIONS)
    assert emu.calls.count(LWA) == 2


def test_a_runtime_of_another_account_is_refused(emu):
    emu.add_account(OTHER_SELLER)
    theirs = runtime_for(settings_for(emu, RefreshToken=OTHER_SELLER))
    with pytest.raises(ValueError, match="another account"):
        Client(settings_for(emu), runtime=theirs)


def test_runtime_repr_holds_no_secret(emu):
    settings = settings_for(emu)
    client = Client(settings)
    client.call(PARTICIPATIONS)
    runtime = client.runtime
    text = " ".join([repr(runtime), repr(runtime.tokens), repr(runtime.limiter), repr(runtime.flights),
                     repr(client.tokens)])
    for secret in (emulator.DEMO_CLIENT_SECRET, emulator.DEMO_REFRESH_TOKEN, client.access_token(),
                   settings.account_key):
        assert secret not in text
    assert repr(runtime) == f"AccountRuntime(account={settings.account_key[:8]}…)"
    assert isinstance(runtime, AccountRuntime)
