"""What the blob store hands back: plain frozen values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlobRef:
    """A stored blob's name and length, what manifests record for each file."""

    digest: str
    size: int


@dataclass(frozen=True)
class BlobInfo:
    """A listed blob with its age, so garbage collection can spare fresh uploads."""

    digest: str
    size: int
    modified: float
