"""Rate limits on the endpoints attackers hammer (login, registration, tokens, resend), with the
`limits` library: a moving window per client address, kept in memory for one process or in Redis
(PEERLEND_RATE_LIMIT_STORAGE=redis://host:6379) when several API workers must share the counts."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse, storage, strategies

from api.kit.errors import TooManyRequests


class RateLimiter:
    def __init__(self, storage_uri: str, limits_by_name: dict[str, str], namespace: str = "peerlend") -> None:
        self.storage = storage.storage_from_string(storage_uri)
        self.strategy = strategies.MovingWindowRateLimiter(self.storage)
        self.items: dict[str, RateLimitItem] = {name: parse(text) for name, text in limits_by_name.items()}
        self.namespace = namespace

    def hit(self, name: str, key: str) -> None:
        item = self.items[name]
        if self.strategy.hit(item, self.namespace, name, key):
            return
        stats = self.strategy.get_window_stats(item, self.namespace, name, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(f"too many requests; try again in {retry_after} seconds", retry_after=retry_after)

    def reset(self) -> None:
        self.storage.reset()
