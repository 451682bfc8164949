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
_CHUNK = 1 << 14  # keeps the temporaries in cache
# Rank from a double's exponent: ``h >> 11`` is below 2**53, so it converts to float exactly and
# its biased exponent is ``bit_length + 1022``; the rank (leading zeros + 1) of ``h`` is then
# ``65 - (bit_length + 11)``, that is ``_RANK_FROM_EXPONENT - exponent``.
_RANK_FROM_EXPONENT = _U(65 - 11 + 1022)
_EXPONENT_SHIFT = _U(52)
_DROPPED_BITS = _U(11)
_HIGHEST_FAST_RANK = 53  # a hash below 2**11 gets more: it takes the exact path


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


def ranks(h: NDArray[np.uint64], out: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Leading zeros + 1 of each 64-bit hash, capped at 63, into ``out`` (a float's exponent)."""
    _fast_ranks(h, out)
    _fix_small(h, out)
    return out


def _fast_ranks(h: NDArray[np.uint64], out: NDArray[np.uint64]) -> None:
    """``ranks`` except where ``h < 2**11``: there ``out`` holds a number above 53."""
    np.right_shift(h, _DROPPED_BITS, out=out)
    as_float = out.view(np.int64).astype(np.float64)  # below 2**53: exact
    np.right_shift(as_float.view(np.uint64), _EXPONENT_SHIFT, out=out)
    np.subtract(_RANK_FROM_EXPONENT, out, out=out)


def _fix_small(h: NDArray[np.uint64], rank: NDArray[np.uint64]) -> None:
    """The exact rank where the fast one overflowed (a hash below 2**11: about once in 2**53)."""
    if len(rank) and int(rank.max()) > _HIGHEST_FAST_RANK:
        small = np.flatnonzero(rank > _HIGHEST_FAST_RANK)
        rank[small] = [min(65 - int(v).bit_length(), _MAX_RANK) for v in h[small].tolist()]


def _murmur(
    values: NDArray[np.float64],
    h1: NDArray[np.uint64],
    h2: NDArray[np.uint64],
    tmp: NDArray[np.uint64],
) -> None:
    """Both halves of MurmurHash3 x64-128 (seed 9001) of each double, into ``h1`` and ``h2``."""
    np.add(values, 0.0, out=h1.view(np.float64))  # + 0.0 turns -0.0 into 0.0, as the library does
    h1 *= _C1
    np.right_shift(h1, _U(33), out=h2)
    h1 <<= _U(31)
    h1 |= h2
    h1 *= _C2
    h1 ^= _SEED_XOR_LEN
    h1 += _SEED_XOR_LEN
    np.add(h1, _SEED_XOR_LEN, out=h2)
    _fmix(h1, tmp)
    _fmix(h2, tmp)
    h1 += h2
    h2 += h1


class RegisterScan:
    """The HLL registers of values given a part at a time, and one value behind each register.

    A value's coupon is its slot (the low ``lg_k`` bits of the first half of the hash) and its
    rank (from the second half). The registers so far are kept beside the scan, so only values
    that raise a register are written down: after the first few thousand values, a small share.
    """

    __slots__ = ("_buffers", "_holder", "_lg_k", "_registers")

    def __init__(self, lg_k: int) -> None:
        self._lg_k = lg_k
        self._registers = np.zeros(1 << lg_k, dtype=np.uint64)
        self._holder = np.zeros(1 << lg_k, dtype=np.float64)  # a value reaching each register
        self._buffers: NDArray[np.uint64] | None = None  # three rows of scratch, made once

    def add(self, values: NDArray[np.float64]) -> None:
        """Hash ``values`` into the registers."""
        registers, mask = self._registers, _U((1 << self._lg_k) - 1)
        size = min(len(values), _CHUNK)
        if self._buffers is None or self._buffers.shape[1] < size:
            self._buffers = np.empty((3, size), dtype=np.uint64)
        slots, hashes, rank = self._buffers
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            n = len(chunk)
            _murmur(chunk, slots[:n], hashes[:n], rank[:n])
            _fast_ranks(hashes[:n], rank[:n])
            slots &= mask
            raised = np.flatnonzero(rank[:n] > registers.take(slots[:n].view(np.int64)))
            if not len(raised):
                continue
            raised_slots, raised_ranks = slots[raised], rank[raised]
            _fix_small(hashes[raised], raised_ranks)
            np.maximum.at(registers, raised_slots, raised_ranks)
            # Values reaching their slot's new register (ties share one coupon: any will do).
            won = raised_ranks == registers[raised_slots]
            self._holder[raised_slots[won]] = chunk[raised[won]]

    def representatives(self) -> tuple[NDArray[np.float64], int]:
        """One value per occupied slot carrying that slot's register, and the occupied count."""
        occupied = np.flatnonzero(self._registers)
        return self._holder[occupied], len(occupied)


def register_representatives(
    values: NDArray[np.float64], lg_k: int
) -> tuple[NDArray[np.float64], int]:
    """One value per occupied slot carrying that slot's maximum rank, and the occupied count."""
    scan = RegisterScan(lg_k)
    scan.add(values)
    return scan.representatives()
