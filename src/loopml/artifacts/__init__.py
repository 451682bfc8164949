"""Content-addressed artifact storage over fsspec: blobs named by digest, verified on read."""

from loopml.artifacts.blobs import BlobStore
from loopml.artifacts.fs import open_filesystem
from loopml.artifacts.refs import BlobInfo, BlobRef

__all__ = ["BlobInfo", "BlobRef", "BlobStore", "open_filesystem"]
