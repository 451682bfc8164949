"""Reduce a large float array to the few values that set an HLL sketch's registers.

An HLL register keeps the maximum "rank" any value hashed into its slot, so feeding every value
and feeding only one value per slot that reaches that slot's maximum leave identical registers.
Hashing 1,000,000 floats in numpy and then feeding at most ``2**lg_k`` of them through the
binding is about ten times faster than feeding them all. The hash is DataSketches' own
(MurmurHash3 x64-128, seed 9001, over the canonical 8 bytes of the double), so the registers
agree bit for bit with a sketch fed directly; ``tests/unit/stats/test_sketches.py`` checks it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_U = np.uint64
_C1, _C2 = _U(0x87C37B91114253D5), _U(0x4CF5AD432745937F)
_F1, _F2 = _U(0xFF51AFD7ED558CCD), _U(0xC4CEB9FE1A85EC53)
_SEED_XOR_LEN = _U(9001 ^ 8)  # seed 9001; the key is 8 bytes long
_MAX_RANK = 63
_CHUNK = 1 << 15  # keeps the temporaries in cache


def _fmix(k: NDArray[np.uint64], tmp: NDArray[np.uint64]) -> None:
    """MurmurHash3's finaliser, in place."""
    np.right_shift(k, _U(33), out=tmp)
    k ^= tmp
    k *= _F1
    np.right_shift(k, _U(33), out=tmp)
    k ^= tmp
    k *= _F2
    np.right_shift(k, _U(33), out=tmp)
    k ^= tmp


def _keys(values: NDArray[np.float64], lg_k: int) -> NDArray[np.uint64]:
    """Per value: ``slot * 64 + rank``, exactly as DataSketches' HLL computes its coupon."""
    h1 = np.add(values, 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0, as the library does
    tmp = np.empty_like(h1)
    h1 *= _C1
    np.right_shift(h1, _U(33), out=tmp)
    h1 <<= _U(31)
    h1 |= tmp
    h1 *= _C2
    h1 ^= _SEED_XOR_LEN
    h1 += _SEED_XOR_LEN
    h2 = h1 + _SEED_XOR_LEN
    _fmix(h1, tmp)
    _fmix(h2, tmp)
    h1 += h2
    h2 += h1
    for shift in (1, 2, 4, 8, 16, 32):  # smear the top bit down: popcount is then the bit length
        np.right_shift(h2, _U(shift), out=tmp)
        h2 |= tmp
    rank = np.bitwise_count(h2)
    np.subtract(65, rank, out=rank)  # leading zeros + 1
    np.minimum(rank, _MAX_RANK, out=rank)
    h1 &= _U((1 << lg_k) - 1)
    h1 <<= _U(6)
    h1 |= rank
    return h1


def register_representatives(
    values: NDArray[np.float64], lg_k: int
) -> tuple[NDArray[np.float64], int]:
    """One value per occupied slot carrying that slot's maximum rank, and the occupied count."""
    last = np.zeros((1 << lg_k) * 64, dtype=np.intp)
    seen = np.zeros((1 << lg_k) * 64, dtype=bool)
    for start in range(0, len(values), _CHUNK):
        keys = _keys(values[start : start + _CHUNK], lg_k)
        last[keys] = np.arange(start, start + len(keys))
        seen[keys] = True
    seen_by_slot = seen.reshape(-1, 64)
    occupied = np.flatnonzero(seen_by_slot.any(axis=1))
    best = 63 - np.argmax(seen_by_slot[occupied, ::-1], axis=1)
    chosen = last.reshape(-1, 64)[occupied, best]
    return values[chosen], len(occupied)
