"""Seeded fault injection for the local venue: what can go wrong on a market-data socket.

A spec string lists faults separated by commas, each ``KIND:TRIGGER[:DURATION]``::

    drop:0.01,dup:every=500,corrupt:0.001,close:every=2000,stall:0.0005:2s,reorder:every=700

* ``KIND`` — ``drop`` (frame not sent: a sequence gap), ``dup`` (sent twice), ``reorder``
  (held back and sent after the next frame), ``corrupt`` (damaged bytes: cut short at a random
  point, or the checksum field altered), ``stall`` (the writer sleeps ``DURATION`` before the
  frame), ``close`` (the venue closes the connection);
* ``TRIGGER`` — a probability ``p`` in (0, 1] per frame, or ``every=N`` (every N-th frame);
* ``DURATION`` — for ``stall`` only: ``2s``, ``250ms`` or a number of seconds (default 1 s).

The decision for each frame is drawn from a ``numpy.random.Generator`` seeded per connection,
so a run is reproducible. This module is pure (no I/O, no clock).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["FAULT_KINDS", "Fault", "FaultInjector", "FaultSpec", "corrupt_frame", "parse_faults"]

FaultKind = Literal["drop", "dup", "reorder", "corrupt", "stall", "close"]
FAULT_KINDS: tuple[FaultKind, ...] = ("drop", "dup", "reorder", "corrupt", "stall", "close")
#: faults that lose or damage a book update, so the client's sequence/checksum check must fire
DESTRUCTIVE: frozenset[str] = frozenset({"drop", "reorder", "corrupt"})


@dataclass(frozen=True)
class Fault:
    """One fault: ``kind`` fires with ``probability`` per frame, or every ``every`` frames."""

    kind: FaultKind
    probability: float = 0.0
    every: int = 0
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind={self.kind!r} is not one of {', '.join(FAULT_KINDS)}")
        if self.every and self.probability:
            raise ValueError("give either probability or every, not both")
        if self.every:
            if not (isinstance(self.every, int) and self.every >= 1):
                raise ValueError(f"every={self.every!r} must be an int >= 1")
        elif not (0.0 < self.probability <= 1.0):
            raise ValueError(f"probability={self.probability!r} must be in (0, 1]")
        if not (0.0 <= self.duration_s <= 3600.0):
            raise ValueError(f"duration_s={self.duration_s!r} must be in [0, 3600]")
        if self.kind == "stall" and self.duration_s <= 0:
            raise ValueError("stall needs duration_s > 0")

    def __str__(self) -> str:
        trig = f"every={self.every}" if self.every else f"{self.probability:g}"
        return f"{self.kind}:{trig}" + (f":{self.duration_s:g}s" if self.kind == "stall" else "")


@dataclass(frozen=True)
class FaultSpec:
    """A set of faults (at most one of each kind)."""

    faults: tuple[Fault, ...] = ()

    def __post_init__(self) -> None:
        kinds = [f.kind for f in self.faults]
        dup = {k for k in kinds if kinds.count(k) > 1}
        if dup:
            raise ValueError(f"faults: kind(s) {', '.join(sorted(dup))} given more than once")

    def __bool__(self) -> bool:
        return bool(self.faults)

    def __str__(self) -> str:
        return ",".join(str(f) for f in self.faults)


_DUR = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s)?\s*$")


def _duration(text: str, item: str) -> float:
    m = _DUR.match(text)
    if not m:
        raise ValueError(f"faults: duration {text!r} in {item!r} is not like '2s', '250ms' or '1.5'")
    v = float(m.group(1))
    return v / 1e3 if m.group(2) == "ms" else v


def parse_faults(spec: str | FaultSpec | None) -> FaultSpec:
    """Parse ``"drop:0.01,dup:every=500,stall:0.0005:2s"`` into a :class:`FaultSpec`.

    Raises ``ValueError`` naming the bad item and what is allowed.
    """
    if spec is None:
        return FaultSpec()
    if isinstance(spec, FaultSpec):
        return spec
    if not isinstance(spec, str):
        raise ValueError(f"faults={spec!r} must be a spec string like 'drop:0.01,dup:every=500'")
    out: list[Fault] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        parts = item.split(":")
        kind = parts[0].strip()
        if kind not in FAULT_KINDS:
            raise ValueError(f"faults: kind {kind!r} in {item!r} is not one of "
                             f"{', '.join(FAULT_KINDS)}")
        if len(parts) < 2 or not parts[1].strip():
            raise ValueError(f"faults: {item!r} needs a trigger: '{kind}:0.01' or "
                             f"'{kind}:every=500'")
        if len(parts) > 3 or (len(parts) == 3 and kind != "stall"):
            raise ValueError(f"faults: {item!r} has too many fields (only stall takes a "
                             "duration: 'stall:0.001:2s')")
        trig = parts[1].strip()
        prob, every = 0.0, 0
        if trig.startswith("every="):
            try:
                every = int(trig[6:])
            except ValueError:
                raise ValueError(f"faults: every={trig[6:]!r} in {item!r} must be an int >= 1"
                                 ) from None
            if every < 1:
                raise ValueError(f"faults: every={every} in {item!r} must be an int >= 1")
        else:
            try:
                prob = float(trig)
            except ValueError:
                raise ValueError(f"faults: trigger {trig!r} in {item!r} must be a probability "
                                 "in (0, 1] or every=N") from None
            if not (0.0 < prob <= 1.0):
                raise ValueError(f"faults: probability {prob!r} in {item!r} must be in (0, 1]")
        dur = _duration(parts[2], item) if len(parts) == 3 else (1.0 if kind == "stall" else 0.0)
        out.append(Fault(kind, prob, every, dur))  # type: ignore[arg-type]
    return FaultSpec(tuple(out))


def corrupt_frame(frame: str, rng: np.random.Generator,
                  checksum_key: str | None = '"checksum":') -> str:
    """Damage a JSON frame so that a careful client must notice.

    Half the time the frame is cut short at a random point (no longer valid JSON); otherwise,
    if it carries the checksum field (the number after ``checksum_key``, the venue's dialect
    says which: ``'"checksum":'``, ``'"c":"'``), that number is changed (a bit error the venue
    checksum catches), else it is cut short too.
    """
    n = len(frame)
    key = checksum_key or ""
    at = frame.find(key) if key else -1
    if at >= 0 and rng.random() < 0.5:
        i = at + len(key)
        j = i
        while j < n and (frame[j] == "-" or frame[j].isdigit()):
            j += 1
        try:
            v = int(frame[i:j])
        except ValueError:
            v = 0
        return frame[:i] + str(v ^ (1 << int(rng.integers(0, 31)))) + frame[j:]
    cut = int(rng.integers(1, max(2, n - 1)))
    return frame[:cut]


class FaultInjector:
    """Decides, frame by frame, which faults fire on one connection.

    Parameters
    ----------
    spec : FaultSpec or str
    seed : int
        Seed of this connection's generator (the venue passes ``seed + connection number``).

    ``decide(data=True)`` returns the kinds that fire for the next frame. Frames with
    ``data=False`` (acks, pongs, snapshots) are never dropped, duplicated, reordered or
    corrupted; ``stall`` and ``close`` count every frame. ``counts`` totals what fired.
    """

    def __init__(self, spec: FaultSpec | str | None, seed: int = 0) -> None:
        self.spec = parse_faults(spec)
        self.rng = np.random.default_rng(seed)
        self.counts: Counter[str] = Counter()
        self.data_frames = 0
        self.all_frames = 0
        self.enabled = True

    def decide(self, data: bool = True) -> list[str]:
        self.all_frames += 1
        if data:
            self.data_frames += 1
        if not (self.enabled and self.spec):
            return []
        fired: list[str] = []
        for f in self.spec.faults:
            if f.kind not in ("stall", "close") and not data:
                continue
            n = self.all_frames if f.kind in ("stall", "close") else self.data_frames
            hit = (n % f.every == 0) if f.every else bool(self.rng.random() < f.probability)
            if hit:
                fired.append(f.kind)
                self.counts[f.kind] += 1
        return fired

    def stall_s(self) -> float:
        for f in self.spec.faults:
            if f.kind == "stall":
                return f.duration_s
        return 0.0
