"""Reads of the channel registry."""

from __future__ import annotations

import threading
import time

from channels.models import Channel

# The routing middleware asks on every channel request; the answer changes only when a channel
# is registered, rejected or deleted, which calls `forget_channel_state`. The short lifetime
# covers other processes (a command run beside the server).
_SERVABLE_CACHE_SECONDS = 2.0
_servable_cache: dict[str, tuple[bool, float]] = {}
_cache_lock = threading.Lock()


def is_channel_servable(channel_id: str) -> bool:
    now = time.monotonic()
    cached = _servable_cache.get(channel_id)
    if cached is not None and now - cached[1] < _SERVABLE_CACHE_SECONDS:
        return cached[0]
    servable = Channel.objects.servable().filter(id=channel_id).exists()
    with _cache_lock:
        _servable_cache[channel_id] = (servable, now)
    return servable


def forget_channel_state(channel_id: str | None = None) -> None:
    with _cache_lock:
        if channel_id is None:
            _servable_cache.clear()
        else:
            _servable_cache.pop(channel_id, None)


def servable_channels() -> list[Channel]:
    return list(Channel.objects.servable())
