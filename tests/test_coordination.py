"""The coordination layer behaves the same in-process and on Redis.

Shared behaviour runs against both implementations; Redis tests use a random key
prefix each, so they never collide with each other or with anything else in the
database, and only delete their own keys.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis

from hub.coordination import Coordinator, LockTimeout, open_coordinator
from hub.coordination.memory import MemoryCoordinator
from hub.coordination.redis import RedisCoordinator
from tests.services import redis_url

MakeRedis = Callable[..., RedisCoordinator]
RECEIVE_TIMEOUT = 2.0


async def _delete_prefix(url: str, prefix: str) -> None:
    client: aioredis.Redis = aioredis.from_url(url, decode_responses=True)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def redis_prefix() -> str:
    return f"omnihub-test:{uuid.uuid4().hex}:"


@asynccontextmanager
async def _redis_factory(prefix: str) -> AsyncIterator[MakeRedis]:
    """Build RedisCoordinators (one per simulated process); close them and drop their keys."""
    url = redis_url()
    made: list[RedisCoordinator] = []

    def make(**kwargs: object) -> RedisCoordinator:
        kwargs.setdefault("prefix", prefix)
        coordinator = RedisCoordinator(url, **kwargs)  # type: ignore[arg-type]
        made.append(coordinator)
        return coordinator

    try:
        yield make
    finally:
        for coordinator in made:
            await coordinator.close()
        await _delete_prefix(url, prefix)


@pytest.fixture
async def make_redis(redis_prefix: str) -> AsyncIterator[MakeRedis]:
    async with _redis_factory(redis_prefix) as make:
        yield make


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def coordinator(
    request: pytest.FixtureRequest, redis_prefix: str
) -> AsyncIterator[Coordinator]:
    if request.param == "memory":
        memory = MemoryCoordinator()
        yield memory
        await memory.close()
        return
    async with _redis_factory(redis_prefix) as make:
        yield make()


async def _next(iterator: AsyncIterator[str]) -> str:
    return await asyncio.wait_for(anext(iterator), RECEIVE_TIMEOUT)


# --- seen / mark_seen -----------------------------------------------------------------


async def test_mark_seen_then_seen(coordinator: Coordinator) -> None:
    assert not await coordinator.seen("wa:msg-1")
    await coordinator.mark_seen("wa:msg-1", 60)
    assert await coordinator.seen("wa:msg-1")
    assert not await coordinator.seen("wa:msg-2")


async def test_seen_expires_after_ttl(coordinator: Coordinator) -> None:
    await coordinator.mark_seen("short", 0.2)
    await coordinator.mark_seen("long", 60)
    assert await coordinator.seen("short")
    await asyncio.sleep(0.35)
    assert not await coordinator.seen("short")
    assert await coordinator.seen("long")


async def test_mark_seen_again_extends_ttl(coordinator: Coordinator) -> None:
    await coordinator.mark_seen("k", 0.2)
    await coordinator.mark_seen("k", 60)
    await asyncio.sleep(0.35)
    assert await coordinator.seen("k")


@pytest.mark.parametrize("ttl", [0, -1])
async def test_mark_seen_rejects_non_positive_ttl(coordinator: Coordinator, ttl: float) -> None:
    with pytest.raises(ValueError):
        await coordinator.mark_seen("k", ttl)
    assert not await coordinator.seen("k")


async def test_memory_seen_is_capped_evicting_oldest() -> None:
    memory = MemoryCoordinator(max_seen_keys=3)
    for key in ("a", "b", "c"):
        await memory.mark_seen(key, 60)
    await memory.mark_seen("a", 60)  # refreshed: now the youngest
    await memory.mark_seen("d", 60)
    assert [await memory.seen(k) for k in ("a", "b", "c", "d")] == [True, False, True, True]
    assert len(memory._seen) == 3


async def test_memory_sweep_drops_expired_keys() -> None:
    memory = MemoryCoordinator(prune_interval_seconds=0.1)
    for i in range(50):
        await memory.mark_seen(f"old-{i}", 0.05)
    await asyncio.sleep(0.15)
    await memory.mark_seen("new", 60)  # triggers the sweep
    assert list(memory._seen) == ["new"]


# --- locks ------------------------------------------------------------------------------


async def test_lock_mutual_exclusion(coordinator: Coordinator) -> None:
    counter = 0
    inside = 0
    most_inside = 0

    async def increment() -> None:
        nonlocal counter, inside, most_inside
        async with coordinator.lock("counter", wait_seconds=10):
            inside += 1
            most_inside = max(most_inside, inside)
            value = counter
            await asyncio.sleep(0.005)  # a lost update would show without the lock
            counter = value + 1
            inside -= 1

    await asyncio.gather(*(increment() for _ in range(15)))
    assert counter == 15
    assert most_inside == 1


async def test_memory_lock_serves_waiters_in_order() -> None:
    memory = MemoryCoordinator()
    order: list[int] = []

    async def take(i: int) -> None:
        async with memory.lock("room"):
            order.append(i)
            await asyncio.sleep(0)

    async with memory.lock("room"):
        tasks = []
        for i in range(10):
            tasks.append(asyncio.create_task(take(i)))
            await asyncio.sleep(0)  # let task i queue before task i + 1
        await asyncio.sleep(0.01)
        assert order == []
    await asyncio.gather(*tasks)
    assert order == list(range(10))


async def test_lock_timeout_when_held(coordinator: Coordinator) -> None:
    async with coordinator.lock("busy"):
        started = time.monotonic()
        with pytest.raises(LockTimeout):
            async with coordinator.lock("busy", wait_seconds=0.2):
                pytest.fail("acquired a lock that is held")
        assert time.monotonic() - started >= 0.15
    # Released: it can be taken again at once.
    async with coordinator.lock("busy", wait_seconds=1):
        pass


async def test_locks_on_different_keys_do_not_block(coordinator: Coordinator) -> None:
    async with coordinator.lock("a"):
        started = time.monotonic()
        async with coordinator.lock("b", wait_seconds=1):
            assert time.monotonic() - started < 0.5


async def test_lock_released_when_body_raises(coordinator: Coordinator) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with coordinator.lock("k"):
            raise RuntimeError("boom")
    async with coordinator.lock("k", wait_seconds=0.5):
        pass


async def test_waiter_gets_lock_after_holder_releases(coordinator: Coordinator) -> None:
    events: list[str] = []
    held = asyncio.Event()

    async def holder() -> None:
        async with coordinator.lock("k"):
            held.set()
            await asyncio.sleep(0.1)
            events.append("holder done")

    task = asyncio.create_task(holder())
    await held.wait()
    async with coordinator.lock("k", wait_seconds=2):
        events.append("waiter in")
    await task
    assert events == ["holder done", "waiter in"]


@pytest.mark.parametrize("lease", [0, -1])
async def test_lock_rejects_non_positive_lease(coordinator: Coordinator, lease: float) -> None:
    with pytest.raises(ValueError):
        async with coordinator.lock("k", lease_seconds=lease):
            pytest.fail("entered with an invalid lease")


async def test_memory_lock_registry_empty_after_use() -> None:
    memory = MemoryCoordinator()

    async with memory.lock("a"), memory.lock("b"):
        assert set(memory._locks) == {"a", "b"}
    assert memory._locks == {}

    # A timed-out waiter leaves nothing behind.
    async with memory.lock("held"):
        with pytest.raises(LockTimeout):
            async with memory.lock("held", wait_seconds=0.05):
                pass
        assert memory._locks["held"].users == 1
    assert memory._locks == {}

    # Nor does a cancelled waiter, or a body that raised.
    async with memory.lock("held"):
        waiter = asyncio.create_task(memory.lock("held").__aenter__())
        await asyncio.sleep(0.01)
        assert memory._locks["held"].users == 2
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    with pytest.raises(KeyError):
        async with memory.lock("x"):
            raise KeyError("x")
    assert memory._locks == {}

    # Many distinct keys do not accumulate.
    for i in range(100):
        async with memory.lock(f"conversation-{i}"):
            pass
    assert memory._locks == {}


# --- pub/sub ----------------------------------------------------------------------------


async def test_publish_without_subscribers_returns_zero(coordinator: Coordinator) -> None:
    assert await coordinator.publish("inbox", "nobody") == 0


async def test_publish_subscribe_roundtrip(coordinator: Coordinator) -> None:
    async with coordinator.subscribe("inbox") as first:
        assert await coordinator.publish("inbox", "one") == 1
        assert await _next(first) == "one"
        async with coordinator.subscribe("inbox") as second:
            assert await coordinator.publish("inbox", "two") == 2
            assert await _next(first) == "two"
            assert await _next(second) == "two"
        assert await coordinator.publish("inbox", "three") == 1
        assert await _next(first) == "three"
    assert await coordinator.publish("inbox", "gone") == 0


async def test_messages_arrive_in_order(coordinator: Coordinator) -> None:
    async with coordinator.subscribe("inbox") as messages:
        for i in range(20):
            await coordinator.publish("inbox", f"m{i}")
        assert [await _next(messages) for _ in range(20)] == [f"m{i}" for i in range(20)]


async def test_topics_are_separate(coordinator: Coordinator) -> None:
    async with coordinator.subscribe("a") as a_messages:
        assert await coordinator.publish("b", "for b") == 0
        assert await coordinator.publish("a", "for a") == 1
        assert await _next(a_messages) == "for a"


async def test_iteration_stops_after_subscription_closes(coordinator: Coordinator) -> None:
    async with coordinator.subscribe("t") as messages:
        pass
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(messages), RECEIVE_TIMEOUT)


async def test_memory_subscriber_registry_empty_after_exit() -> None:
    memory = MemoryCoordinator()
    async with memory.subscribe("t"), memory.subscribe("t"):
        assert len(memory._subscribers["t"]) == 2
    assert memory._subscribers == {}


async def test_memory_full_subscriber_queue_drops_instead_of_growing() -> None:
    memory = MemoryCoordinator(queue_size=2)
    async with memory.subscribe("t") as messages:
        assert [await memory.publish("t", str(i)) for i in range(3)] == [1, 1, 0]
        assert [await _next(messages), await _next(messages)] == ["0", "1"]


async def test_ping(coordinator: Coordinator) -> None:
    assert await coordinator.ping() is True


# --- Redis across processes ---------------------------------------------------------------


@pytest.mark.redis
async def test_redis_instances_share_seen_keys(make_redis: MakeRedis) -> None:
    one, two = make_redis(), make_redis()
    await one.mark_seen("tg:update-7", 60)
    assert await two.seen("tg:update-7")


@pytest.mark.redis
async def test_redis_prefix_separates_deployments(make_redis: MakeRedis, redis_prefix: str) -> None:
    ours, theirs = make_redis(), make_redis(prefix=redis_prefix + "other:")
    await ours.mark_seen("k", 60)
    assert not await theirs.seen("k")
    async with ours.lock("k"), theirs.lock("k", wait_seconds=0.5):
        pass  # same lock name, different prefix: no contention
    async with theirs.subscribe("t"):
        assert await ours.publish("t", "x") == 0


@pytest.mark.redis
async def test_redis_instances_share_locks(make_redis: MakeRedis) -> None:
    one, two = make_redis(), make_redis()
    async with one.lock("conv-1"):
        with pytest.raises(LockTimeout):
            async with two.lock("conv-1", wait_seconds=0.2):
                pytest.fail("two processes held the same lock")
    async with two.lock("conv-1", wait_seconds=1):
        pass


@pytest.mark.redis
async def test_redis_mutual_exclusion_across_instances(make_redis: MakeRedis) -> None:
    instances = [make_redis() for _ in range(3)]
    counter = 0
    inside = 0
    most_inside = 0

    async def increment(instance: RedisCoordinator) -> None:
        nonlocal counter, inside, most_inside
        async with instance.lock("counter", wait_seconds=10):
            inside += 1
            most_inside = max(most_inside, inside)
            value = counter
            await asyncio.sleep(0.005)
            counter = value + 1
            inside -= 1

    await asyncio.gather(*(increment(instances[i % 3]) for i in range(12)))
    assert counter == 12
    assert most_inside == 1


@pytest.mark.redis
async def test_redis_instances_share_pubsub(make_redis: MakeRedis) -> None:
    one, two, three = make_redis(), make_redis(), make_redis()
    async with two.subscribe("inbox") as at_two, three.subscribe("inbox") as at_three:
        assert await one.publish("inbox", "hello") == 2
        assert await _next(at_two) == "hello"
        assert await _next(at_three) == "hello"
    assert await one.publish("inbox", "gone") == 0


@pytest.mark.redis
async def test_redis_expired_lease_frees_lock_and_release_only_warns(
    make_redis: MakeRedis, caplog: pytest.LogCaptureFixture
) -> None:
    one, two = make_redis(), make_redis()
    key = "+6281234567890"
    caplog.set_level(logging.WARNING, logger="hub.coordination.redis")
    # The first holder overruns its lease (as a stuck process would), so the second gets in.
    async with one.lock(key, lease_seconds=0.2), two.lock(key, wait_seconds=2):
        pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["lock lease expired"]
    assert all(key not in r.getMessage() for r in caplog.records)


@pytest.mark.redis
async def test_redis_keys_live_under_prefix(make_redis: MakeRedis, redis_prefix: str) -> None:
    coordinator = make_redis()
    await coordinator.mark_seen("k", 60)
    client: aioredis.Redis = aioredis.from_url(redis_url(), decode_responses=True)
    try:
        keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
    finally:
        await client.aclose()
    assert len(keys) == 1
    assert keys[0].startswith(redis_prefix)
    assert keys[0].endswith("k")


async def test_redis_ping_false_when_unreachable() -> None:
    unreachable = RedisCoordinator("redis://127.0.0.1:1/0", ping_timeout=1.0)
    try:
        assert await unreachable.ping() is False
    finally:
        await unreachable.close()


# --- factory ------------------------------------------------------------------------------


async def test_open_coordinator_picks_implementation() -> None:
    memory = open_coordinator(None)
    assert isinstance(memory, MemoryCoordinator)
    remote = open_coordinator("redis://127.0.0.1:1/0")
    try:
        assert isinstance(remote, RedisCoordinator)
    finally:
        await remote.close()
    await memory.close()
