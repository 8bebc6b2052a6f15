"""The in-process broker: coalescing, fan-out, bounded queues."""

import asyncio

from app.realtime.broker import QUEUE_SIZE, Broker, Subscription


class Recorder:
    def __init__(self, delay=0.0):
        self.calls = []
        self.delay = delay

    async def __call__(self, user_id):
        self.calls.append(user_id)
        await asyncio.sleep(self.delay)
        return {"user_id": user_id, "n": len(self.calls)}


async def settle(broker):
    await asyncio.gather(*broker._running.values())


async def test_unwatched_users_cost_nothing():
    fetch = Recorder()
    broker = Broker(fetch)
    broker.notify("nobody")
    await settle(broker)
    assert fetch.calls == []


async def test_every_socket_of_the_user_gets_the_push():
    broker = Broker(Recorder())
    first, second = broker.subscribe("u"), broker.subscribe("u")
    other = broker.subscribe("v")
    broker.notify("u")
    await settle(broker)
    assert (await first.get())["user_id"] == "u"
    assert (await second.get())["user_id"] == "u"
    assert other._queue.empty()


async def test_a_burst_is_coalesced_into_at_most_two_queries():
    fetch = Recorder(delay=0.05)
    broker = Broker(fetch)
    broker.subscribe("u")
    broker.notify("u")
    await asyncio.sleep(0.01)  # the first refresh is now running
    for _ in range(20):
        broker.notify("u")
    await settle(broker)
    assert fetch.calls == ["u", "u"]


async def test_unsubscribed_socket_is_forgotten():
    broker = Broker(Recorder())
    subscription = broker.subscribe("u")
    broker.unsubscribe(subscription)
    assert broker.users() == []


def test_slow_client_keeps_only_the_newest_pushes():
    subscription = Subscription("u")
    for n in range(QUEUE_SIZE + 3):
        subscription.put({"n": n})
    assert subscription.dropped == 3
    assert subscription._queue.get_nowait() == {"n": 3}


async def test_a_failing_refresh_does_not_stop_later_ones():
    calls = []

    async def flaky(user_id):
        calls.append(user_id)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return {"user_id": user_id}

    broker = Broker(flaky)
    subscription = broker.subscribe("u")
    broker.notify("u")
    await settle(broker)
    broker.notify("u")
    await settle(broker)
    assert await subscription.get() == {"user_id": "u"}


class Flaky(Recorder):
    """Fails its first `failures` calls, as a refresh does while PostgreSQL restarts."""

    def __init__(self, failures):
        super().__init__()
        self.failures = failures

    async def __call__(self, user_id):
        if len(self.calls) < self.failures:
            self.calls.append(user_id)
            raise OSError("the database is not reachable")
        return await super().__call__(user_id)


async def test_a_failed_refresh_is_retried_until_it_pushes():
    # Found by the chaos soak: the refresh after a listener reconnect failed while
    # the pool was not back, and the sockets kept a stale list.
    fetch = Flaky(failures=2)
    broker = Broker(fetch)
    subscription = broker.subscribe("u")
    broker.notify("u")
    await settle(broker)
    assert (await asyncio.wait_for(subscription.get(), 5))["n"] == 3
    assert broker.stats.retries == 2


async def test_a_refresh_nobody_waits_for_is_not_retried():
    fetch = Flaky(failures=5)
    broker = Broker(fetch)
    subscription = broker.subscribe("u")
    broker.notify("u")
    broker.unsubscribe(subscription)
    await settle(broker)
    assert fetch.calls == ["u"]
