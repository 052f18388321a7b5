"""Rate limits on the endpoints attackers hammer (login, registration, tokens, resend), with the
`limits` library: a moving window per client address, kept in memory by default or in Redis
(PEERLEND_RATE_LIMIT_STORAGE) when several API processes must share it."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse, storage, strategies

from api.kit.errors import PeerlendError


class TooManyRequests(PeerlendError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, storage_uri: str, limits_by_name: dict[str, str]) -> None:
        self.storage = storage.storage_from_string(storage_uri)
        self.strategy = strategies.MovingWindowRateLimiter(self.storage)
        self.items: dict[str, RateLimitItem] = {name: parse(text) for name, text in limits_by_name.items()}

    def hit(self, name: str, key: str) -> None:
        item = self.items[name]
        if self.strategy.hit(item, name, key):
            return
        stats = self.strategy.get_window_stats(item, name, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(f"too many requests; try again in {retry_after} seconds", retry_after)

    def reset(self) -> None:
        self.storage.reset()
