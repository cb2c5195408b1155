"""The minutes of an hour, packed into that hour's aggregate row.

A row per server and minute would be 1,440 rows a server for 24 h (14 million for
10,000 servers, most of the store); sixty 16-byte slots in the hour row hold the same
counts in 960 bytes. A slot is (up, down, latency sum, min, max), little-endian; an
empty minute is all zeros.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_SLOT = struct.Struct("<HHfff")
MINUTES = 60


@dataclass
class MinuteTally:
    up: int = 0
    down: int = 0
    latency_sum: float = 0.0
    latency_min: float | None = None
    latency_max: float | None = None

    def merge(self, other: MinuteTally) -> None:
        self.up += other.up
        self.down += other.down
        self.latency_sum += other.latency_sum
        for name, pick in (("latency_min", min), ("latency_max", max)):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, theirs if mine is None else mine if theirs is None else pick(mine, theirs))


def unpack(blob: bytes | None) -> dict[int, MinuteTally]:
    """Minute of the hour → its tally, for the minutes that saw a check."""
    out: dict[int, MinuteTally] = {}
    if not blob:
        return out
    for minute, (up, down, total, low, high) in enumerate(_SLOT.iter_unpack(bytes(blob))):
        if up or down:
            out[minute] = MinuteTally(up, down, total, low if up else None, high if up else None)
    return out


def pack(minutes: dict[int, MinuteTally]) -> bytes:
    slots = bytearray(_SLOT.size * MINUTES)
    for minute, t in minutes.items():
        _SLOT.pack_into(slots, minute * _SLOT.size, min(t.up, 65535), min(t.down, 65535), t.latency_sum,
                        t.latency_min or 0.0, t.latency_max or 0.0)
    return bytes(slots)
