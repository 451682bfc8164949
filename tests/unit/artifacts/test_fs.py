import sys
from pathlib import Path

import fsspec
import pytest
from fsspec.registry import _registry as fsspec_classes

from loopml.artifacts.fs import is_local, open_filesystem
from loopml.errors import BackendUnavailable, InvalidInput


def test_open_filesystem_local_path(tmp_path: Path) -> None:
    fs, root = open_filesystem(str(tmp_path))
    assert is_local(fs)
    assert root == tmp_path.as_posix()


def test_open_filesystem_file_uri(tmp_path: Path) -> None:
    fs, root = open_filesystem(tmp_path.as_uri() + "/")
    assert is_local(fs)
    assert root == tmp_path.as_posix()


def test_open_filesystem_memory_not_local() -> None:
    fs, root = open_filesystem("memory://bucket/prefix")
    assert not is_local(fs)
    assert root == "/bucket/prefix"


def test_open_filesystem_unknown_protocol_refused() -> None:
    with pytest.raises(InvalidInput, match="'nosuch://x' cannot be opened"):
        open_filesystem("nosuch://x")


@pytest.mark.parametrize("uri", ["", "   "])
def test_open_filesystem_empty_refused(uri: str) -> None:
    with pytest.raises(InvalidInput, match="artifact URI is empty"):
        open_filesystem(uri)


def test_open_filesystem_missing_backend_unavailable() -> None:
    fsspec.register_implementation(
        "loopmlmissing", "loopml_no_such_module.FS", clobber=True, errtxt="pip install x"
    )
    with pytest.raises(BackendUnavailable, match="loopmlmissing:// artifact backend") as info:
        open_filesystem("loopmlmissing://bucket")
    assert info.value.hint is not None


def test_open_filesystem_s3_missing_hint_names_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # as if s3fs were not installed
    monkeypatch.delitem(fsspec_classes, "s3", raising=False)
    with pytest.raises(BackendUnavailable, match="s3:// artifact backend") as info:
        open_filesystem("s3://bucket/prefix")
    assert info.value.hint == 'pip install "loopml[s3]"'
