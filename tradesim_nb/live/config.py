"""Timeouts, backoff and REST limits of the live client, validated once."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

__all__ = ["ClientConfig"]


@dataclass(frozen=True)
class ClientConfig:
    """Timeouts and backoff of :class:`BookClient` (seconds).

    Parameters
    ----------
    connect_timeout_s : float
        Opening handshake limit.
    silence_timeout_s : float
        Watchdog: no frame for this long closes the socket and reconnects.
    keepalive_s : float
        Send the venue's keepalive after this long without a frame (some venues close a
        socket silent for 30 s), or this often where the venue's protocol asks for it.
    backoff_initial_s, backoff_max_s : float
        :math:`d_0` and :math:`d_{max}` of the reconnect delay.
    backoff_jitter : float
        :math:`j` in [0, 1): relative jitter of each delay.
    resync_timeout_s : float
        A resync not answered by a snapshot within this long reconnects.
    auto_timeout_s : float
        ``source="auto"``: how long to try the live venue before starting the local one.
    latency_capacity : int
        Frames kept in the latency ring.
    rest_limit : int
        Venues that sync over REST: levels a side of the snapshot, in [1, 5000] (the venue's
        protocol may accept fewer values, e.g. Binance USD-M futures one of 5, 10, 20, 50,
        100, 500, 1000).
    rest_min_interval_s : float
        At least this long between two REST snapshot requests of one symbol (an endpoint's
        request weight grows with ``limit``; 1 s keeps far below the limits).
    rest_timeout_s : float
        Limit of one REST snapshot request.
    max_lag_s : float or None
        The staleness bound: a book whose last update's venue time is more than this behind
        the local clock when it is applied is not valid (``book.valid`` False, status
        ``"stale"``) until an update within the bound arrives. None: no bound. Keep it above
        the clock difference between this machine and the venue.
    resync_min_interval_s : float
        At most one resync request a symbol per this long: with a gap on every frame the
        client sends at most ``1 / resync_min_interval_s`` resyncs a second a symbol (the
        others are counted in ``resyncs_limited`` and sent when the interval ends).
    backoff_reset_s : float
        The reconnect backoff starts again from ``backoff_initial_s`` only after a session
        that delivered valid books and lasted this long; sessions that fail sooner (a venue
        dropping every connection) make the delay grow to ``backoff_max_s``.

    Notes
    -----
    The keepalive is sent after ``keepalive_s / 2`` without a frame (or every
    ``keepalive_s / 2`` where the venue asks for it always), so a live socket answers well
    within ``keepalive_s``; a socket silent for ``keepalive_s`` is dead: the books are marked
    not valid at once and the client reconnects. Books are also not valid from the moment a
    connection is lost until the next one's snapshots.
    """

    connect_timeout_s: float = 5.0
    silence_timeout_s: float = 15.0
    keepalive_s: float = 20.0
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 15.0
    backoff_jitter: float = 0.2
    resync_timeout_s: float = 5.0
    auto_timeout_s: float = 3.0
    latency_capacity: int = 8192
    rest_limit: int = 1000
    rest_min_interval_s: float = 1.0
    rest_timeout_s: float = 10.0
    max_lag_s: float | None = 5.0
    resync_min_interval_s: float = 1.0
    backoff_reset_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("connect_timeout_s", "silence_timeout_s", "keepalive_s",
                     "backoff_initial_s", "backoff_max_s", "resync_timeout_s",
                     "auto_timeout_s", "rest_timeout_s"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and 0 < v <= 3600):
                raise ValueError(f"{name}={v!r} must be a number in (0, 3600]")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError(f"backoff_max_s={self.backoff_max_s!r} must be >= "
                             f"backoff_initial_s={self.backoff_initial_s!r}")
        if not (0.0 <= self.backoff_jitter < 1.0):
            raise ValueError(f"backoff_jitter={self.backoff_jitter!r} must be in [0, 1)")
        if not (isinstance(self.latency_capacity, int) and self.latency_capacity >= 2):
            raise ValueError(f"latency_capacity={self.latency_capacity!r} must be an int >= 2")
        v = self.rest_min_interval_s
        if not (isinstance(v, int | float) and math.isfinite(v) and 0 <= v <= 3600):
            raise ValueError(f"rest_min_interval_s={v!r} must be a number in [0, 3600]")
        if not (isinstance(self.rest_limit, int) and 1 <= self.rest_limit <= 5000):
            raise ValueError(f"rest_limit={self.rest_limit!r} must be an int in [1, 5000]")
        v = self.max_lag_s
        if v is not None and not (isinstance(v, int | float) and not isinstance(v, bool)
                                  and math.isfinite(v) and 0 < v <= 86_400):
            raise ValueError(f"max_lag_s={v!r} must be None or a number in (0, 86400]")
        for name in ("resync_min_interval_s", "backoff_reset_s"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and 0 <= v <= 3600):
                raise ValueError(f"{name}={v!r} must be a number in [0, 3600]")

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Delay before reconnect attempt ``attempt`` (0-based)."""
        base = min(self.backoff_max_s, self.backoff_initial_s * 2.0 ** min(attempt, 60))
        return base * (1.0 + self.backoff_jitter * rng.uniform(-1.0, 1.0))
