"""Per-frame latency of the live pipeline in a fixed-size numpy ring.

Each applied frame records up to four ``time.perf_counter_ns()`` stamps: *receive* (the frame
came off the socket), *parsed* (venue parser done), *applied* (book updated, sequence and
checksum checked) and *estimate* (the user's callbacks, e.g. the trade-cost simulator, done).
The ring keeps the last ``capacity`` frames, so memory is fixed however long the feed runs.

Stage latencies are differences from the receive stamp, in microseconds,

.. math::

    \\ell^{(s)}_i = (t^{(s)}_i - t^{(recv)}_i) / 10^3,

and the summary gives the empirical quantiles :math:`q_{0.5}, q_{0.9}, q_{0.99}` (numpy's
linear interpolation, Hyndman & Fan type 7) and the maximum over the frames in the ring. The
frame rate is the number of frames in the ring divided by the span of their receive stamps,
:math:`(n - 1) / (t^{(recv)}_{n} - t^{(recv)}_{1})`.

References
----------
R. J. Hyndman and Y. Fan, "Sample quantiles in statistical packages", *The American
Statistician* 50(4), 1996.

This module is core: pure numpy, no clock of its own and no event loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["STAGES", "LatencyRing"]

#: the stages after *receive*, in pipeline order
STAGES: tuple[str, ...] = ("parsed", "applied", "estimate")


class LatencyRing:
    """Receive → parsed → applied → estimate stamps of the last ``capacity`` frames.

    Parameters
    ----------
    capacity : int
        Frames kept (>= 2). Memory is ``32 * capacity`` bytes.

    Notes
    -----
    ``record`` is called on the loop thread once a frame; it stores four int64 values and
    bumps an index (about 1 µs in CPython). A stamp of 0 means the stage did not run for that
    frame (e.g. no callback registered, so no *estimate*); such frames are left out of that
    stage's quantiles.
    """

    __slots__ = ("_i", "_stamps", "capacity", "total")

    def __init__(self, capacity: int = 8192) -> None:
        if not (isinstance(capacity, int) and capacity >= 2):
            raise ValueError(f"capacity={capacity!r} must be an int >= 2")
        self.capacity = capacity
        self._stamps = np.zeros((capacity, 4), dtype=np.int64)
        self._i = 0
        self.total = 0

    def record(self, recv_ns: int, parsed_ns: int, applied_ns: int, estimate_ns: int = 0) -> None:
        """Store one frame's stamps (perf-counter ns); 0 for a stage that did not run."""
        row = self._stamps[self._i]
        row[0] = recv_ns
        row[1] = parsed_ns
        row[2] = applied_ns
        row[3] = estimate_ns
        self._i = (self._i + 1) % self.capacity
        self.total += 1

    def __len__(self) -> int:
        return min(self.total, self.capacity)

    def clear(self) -> None:
        self._i = 0
        self.total = 0

    def stamps(self) -> np.ndarray:
        """The filled rows, oldest first, shape ``(n, 4)`` (a copy)."""
        n = len(self)
        if n < self.capacity:
            return self._stamps[:n].copy()
        return np.roll(self._stamps, -self._i, axis=0)

    def latencies_us(self, stage: str, last_s: float | None = None) -> np.ndarray:
        """Latency receive → ``stage`` in µs of the frames where the stage ran (in ring
        order); with ``last_s``, only the frames received in the last ``last_s`` seconds
        before the newest one."""
        if stage not in STAGES:
            raise ValueError(f"stage={stage!r} is not one of {', '.join(STAGES)}")
        if last_s is not None and not last_s > 0:
            raise ValueError(f"last_s={last_s!r} must be None or > 0")
        n = len(self)
        s = self._stamps[:n]
        col = s[:, 1 + STAGES.index(stage)]
        ok = col > 0
        if last_s is not None and n:
            ok &= s[:, 0] >= s[:, 0].max() - int(last_s * 1e9)
        return (col[ok] - s[ok, 0]).astype(np.float64) / 1e3

    def frames_per_s(self) -> float:
        """Frames in the ring over the span of their receive stamps (NaN below 2 frames)."""
        n = len(self)
        if n < 2:
            return float("nan")
        recv = self._stamps[:n, 0]
        span = int(recv.max() - recv.min())
        return (n - 1) / (span / 1e9) if span > 0 else float("nan")

    def summary(self) -> dict[str, Any]:
        """``{"frames_in_ring", "frames_per_s", "<stage>_p50_us", ..._p90_us, _p99_us, _max_us}``."""
        out: dict[str, Any] = {"frames_in_ring": len(self), "frames_per_s": self.frames_per_s()}
        for st in STAGES:
            x = self.latencies_us(st)
            if x.size:
                p50, p90, p99 = np.percentile(x, [50.0, 90.0, 99.0])
                mx = float(x.max())
            else:
                p50 = p90 = p99 = mx = float("nan")
            out[f"{st}_p50_us"] = float(p50)
            out[f"{st}_p90_us"] = float(p90)
            out[f"{st}_p99_us"] = float(p99)
            out[f"{st}_max_us"] = mx
        return out
