import pytest

from connectors.alerts.ratelimit import TokenBucket, bucket_for


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_burst_then_one_token_per_interval():
    clock = FakeClock()
    bucket = TokenBucket(rate_per_second=0.5, capacity=2, clock=clock, sleep=clock.sleep)
    assert [bucket.acquire() for _ in range(2)] == [0.0, 0.0]
    assert bucket.acquire() == pytest.approx(2.0)
    assert bucket.acquire() == pytest.approx(2.0)
    assert clock.now == pytest.approx(4.0)


def test_idle_time_refills_up_to_capacity_only():
    clock = FakeClock()
    bucket = TokenBucket(rate_per_second=1.0, capacity=2, clock=clock, sleep=clock.sleep)
    bucket.acquire(), bucket.acquire()
    clock.now += 100
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_bucket_for_rate_per_minute():
    assert bucket_for(None, 1) is None
    bucket = bucket_for(30, 3)
    assert (bucket.rate, bucket.capacity) == (0.5, 3)
