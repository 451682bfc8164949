"""Cutting prediction log segments into monitor windows, exactly once.

A time window holds the predictions made in ``[start, start + size)``; a segment inside one
window lends it its stored profile (no rows are read), a segment across a boundary is read and
split. A row window holds ``size`` consecutive logged predictions; the last one stays open
(``complete=False``) until it fills. A window's state keeps its pieces and merged profile, so
segments arriving later merge into it instead of opening a second result for the same span.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from loopml.entities import MonitorWindow, PredictionSegment
from loopml.monitor.compute import Piece, read_rows
from loopml.monitor.config import WindowSpec
from loopml.predictions.log import profile_segment
from loopml.stats import TableProfile
from loopml.workspace import Workspace


@dataclass
class OpenWindow:
    """A window being filled during one run (its earlier state plus the new pieces)."""

    key: str
    start_time: int
    end_time: int
    rows: int = 0
    model_versions: set[int] = field(default_factory=set)
    pieces: list[Piece] = field(default_factory=list)
    profile: TableProfile | None = None
    complete: bool = False
    creation_time: int = 0
    previous_result: Mapping[str, Any] = field(default_factory=dict)
    labels_only: bool = False  # reopened because labels arrived: only its accuracy changes

    @classmethod
    def from_stored(cls, window: MonitorWindow) -> OpenWindow:
        state = window.state
        profile = state.get("profile")
        return cls(
            key=window.window_key,
            start_time=window.start_time,
            end_time=window.end_time,
            rows=window.rows,
            model_versions=set(state.get("model_versions") or ()),
            pieces=[Piece.from_dict(p) for p in state.get("pieces") or ()],
            profile=None if profile is None else TableProfile.from_dict(profile),
            complete=window.complete,
            creation_time=window.creation_time,
            previous_result=window.result,
        )

    def add(
        self, piece: Piece, profile: TableProfile, versions: Sequence[int], times: tuple[int, int]
    ) -> None:
        self.pieces.append(piece)
        self.profile = profile if self.profile is None else self.profile.merge(profile)
        self.rows += profile.row_count
        self.model_versions.update(int(v) for v in versions)
        if self.key.startswith("r:"):
            if self.rows == profile.row_count:
                self.start_time, self.end_time = times
            else:
                self.start_time = min(self.start_time, times[0])
                self.end_time = max(self.end_time, times[1])

    def state(self) -> dict[str, Any]:
        return {
            "pieces": [p.to_dict() for p in self.pieces],
            "profile": None if self.profile is None else self.profile.to_dict(),
            "model_versions": sorted(self.model_versions),
        }


def time_key(start: int) -> str:
    return f"t:{start}"


def row_key(index: int) -> str:
    return f"r:{index:012d}"


class Windower:
    """Assigns the new segments of one run to windows (existing ones loaded on demand)."""

    def __init__(
        self,
        spec: WindowSpec,
        load: Callable[[list[str]], list[MonitorWindow]],
        workspace: Workspace,
        last_row_window: MonitorWindow | None = None,
    ) -> None:
        self.spec = spec
        self._load = load
        self._ws = workspace
        self.windows: dict[str, OpenWindow] = {}
        # The newest row window: it joins ``windows`` (is computed again) only if rows reach it.
        self._row_window = (
            None if last_row_window is None else OpenWindow.from_stored(last_row_window)
        )

    def add_segments(self, segments: Sequence[PredictionSegment]) -> None:
        if self.spec.kind == "time":
            self._preload_time(segments)
            for segment in segments:
                self._add_time(segment)
        else:
            for segment in segments:
                self._add_rows(segment)

    # -- time windows ---------------------------------------------------------------------

    def _start(self, t: int) -> int:
        return (t // self.spec.size) * self.spec.size

    def _preload_time(self, segments: Sequence[PredictionSegment]) -> None:
        keys: set[str] = set()
        for segment in segments:
            start = self._start(segment.start_time)
            while start <= segment.end_time:
                keys.add(time_key(start))
                start += self.spec.size
        wanted = sorted(k for k in keys if k not in self.windows)
        for stored in self._load(wanted) if wanted else []:
            self.windows[stored.window_key] = OpenWindow.from_stored(stored)

    def _time_window(self, start: int) -> OpenWindow:
        key = time_key(start)
        if key not in self.windows:
            self.windows[key] = OpenWindow(key, start, start + self.spec.size - 1)
        return self.windows[key]

    def _add_time(self, segment: PredictionSegment) -> None:
        first, last = self._start(segment.start_time), self._start(segment.end_time)
        if first == last:
            window = self._time_window(first)
            window.add(
                Piece(segment.segment_id, segment.blob_digest, segment.rows),
                self._profile(segment),
                segment.model_versions,
                (segment.start_time, segment.end_time),
            )
            return
        table = self._read(segment, None)
        times = table.column("time_ms").to_numpy()
        start = first
        while start <= last:
            end = start + self.spec.size - 1
            mask = (times >= start) & (times <= end)
            if mask.any():
                part = table.filter(pa.array(mask))
                versions = sorted(set(part.column("model_version").to_pylist()))
                self._time_window(start).add(
                    Piece(
                        segment.segment_id, segment.blob_digest, part.num_rows, time=(start, end)
                    ),
                    profile_segment(part),
                    versions,
                    (int(times[mask].min()), int(times[mask].max())),
                )
            start += self.spec.size

    # -- row windows ----------------------------------------------------------------------

    def _add_rows(self, segment: PredictionSegment) -> None:
        offset = 0
        table: pa.Table | None = None
        while offset < segment.rows:
            window = self._row_window
            if window is None or window.rows >= self.spec.size:
                index = 0 if window is None else int(window.key[2:]) + 1
                if window is not None:
                    window.complete = True
                window = OpenWindow(row_key(index), segment.start_time, segment.end_time)
                self._row_window = window
                self.windows[window.key] = window
            self.windows[window.key] = window
            take = min(self.spec.size - window.rows, segment.rows - offset)
            if offset == 0 and take == segment.rows:
                window.add(
                    Piece(segment.segment_id, segment.blob_digest, take),
                    self._profile(segment),
                    segment.model_versions,
                    (segment.start_time, segment.end_time),
                )
            else:
                if table is None:
                    table = self._read(segment, None)
                part = table.slice(offset, take)
                times = part.column("time_ms").to_numpy()
                window.add(
                    Piece(
                        segment.segment_id,
                        segment.blob_digest,
                        take,
                        offsets=(offset, offset + take),
                    ),
                    profile_segment(part),
                    sorted(set(part.column("model_version").to_pylist())),
                    (int(times.min()), int(times.max())),
                )
            offset += take
            if window.rows >= self.spec.size:
                window.complete = True

    # -- helpers --------------------------------------------------------------------------

    def _profile(self, segment: PredictionSegment) -> TableProfile:
        if segment.profile is not None:
            return TableProfile.from_dict(segment.profile)
        return profile_segment(self._read(segment, None))

    def _read(self, segment: PredictionSegment, columns: list[str] | None) -> pa.Table:
        return read_rows(
            [Piece(segment.segment_id, segment.blob_digest, segment.rows)], columns, self._ws
        )

    def mark_complete(self, newest_time: int) -> None:
        """Time windows that end before the newest prediction seen are complete."""
        for window in self.windows.values():
            if window.key.startswith("t:") and window.end_time < newest_time:
                window.complete = True
