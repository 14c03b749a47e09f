"""The connector runtime's pure parts: the rate limit's buckets, `Retry-After`, scrubbing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.vendor import MASK, Rate, RateLimiter, retry_after, scrub, secret_fragments


def test_a_bucket_lets_a_burst_through_then_spaces_calls_at_its_rate() -> None:
    limiter = RateLimiter()
    rate = Rate(per_s=2.0, burst=3)

    delays = [limiter.delay("conn-1", rate, now=100.0) for _ in range(5)]

    assert delays == [0.0, 0.0, 0.0, 0.5, 1.0]  # the 4th and 5th wait for their token
    assert limiter.delay("conn-2", rate, now=100.0) == 0.0  # another connection: its own
    assert limiter.delay("conn-1", rate, now=110.0) == 0.0  # refilled since


def test_retry_after_in_seconds_or_as_a_date_bounded_to_an_hour() -> None:
    now = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert retry_after({"retry-after": "7"}) == timedelta(seconds=7)
    assert retry_after({"retry-after": "Sat, 05 Dec 2026 08:00:30 GMT"}, now=now) == timedelta(
        seconds=30
    )
    assert retry_after({"retry-after": "86400"}) == timedelta(hours=1)
    assert retry_after({"retry-after": "-3"}) == timedelta(0)
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None


def test_every_part_of_a_secret_is_scrubbed_from_text_and_data() -> None:
    secret = {
        "url": "postgresql://shop:p%40ss-w0rd@db.example.com/shop",
        "hook": "https://hooks.example.com/services/T0001/B0001/bT9xK2secretQ7Lm?sig=abcdefgh1234",
    }
    fragments = secret_fragments(secret)

    text = "login failed for shop with p@ss-w0rd at https://hooks.example.com/services/T0001"
    assert (
        scrub(text, fragments)
        == f"login failed for shop with {MASK} at https://hooks.example.com/services/T0001"
    )
    leaked = {"echo": ["bT9xK2secretQ7Lm", {"sig": "abcdefgh1234"}], "n": 3}
    assert scrub(leaked, fragments) == {"echo": [MASK, {"sig": MASK}], "n": 3}
