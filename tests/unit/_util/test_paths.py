import os
from pathlib import Path

import pytest

from loopml._util.paths import MAX_PATH_LEN, normalize_artifact_path, safe_local_join
from loopml.errors import InvalidInput

TRAVERSALS = [
    ("/etc/passwd", "absolute"),
    ("C:\\x", "backslash"),
    ("C:/x", "absolute"),
    ("c:x", "absolute"),
    ("//server/share", "absolute"),
    ("\\\\server\\share", "backslash"),
    ("..", "'..'"),
    ("../x", "'..'"),
    ("a/../../x", "'..'"),
    ("a/..", "'..'"),
    ("a\\..\\x", "backslash"),
    ("a\x00b", "control character"),
    ("a\nb", "control character"),
    ("a\x7fb", "control character"),
    ("%2e%2e/x", "%2e"),
    ("%2E%2E%2Fx", "%2E"),
    ("%252e%252e/x", "%2e"),
    ("%25252e%25252e/x", "%2e"),
    ("..%2fx", "%2f"),
    ("a/%2e%2e/b", "%2e"),
    ("x%2f..%2f..%2fetc", "%2f"),
    ("%00", "%00"),
    ("a%00.txt", "%00"),
    ("%5c", "%5c"),
    ("%5C..%5Cx", "backslash|%5C"),
    ("%0a", "%0a"),
    ("%7e/x", "'~'"),
    ("~/x", "'~'"),
    ("~root/.ssh", "'~'"),
    ("%2fetc/passwd", "%2f"),
]

GOOD = [
    ("model.pkl", "model.pkl"),
    ("model/model.pkl", "model/model.pkl"),
    ("a/./b//c", "a/b/c"),
    ("./a/b/", "a/b"),
    ("a..b/c...d", "a..b/c...d"),
    ("reports/100%.html", "reports/100%.html"),
    ("with space/%20.txt", "with space/%20.txt"),
    ("données/é.csv", "données/é.csv"),
    ("x~y", "x~y"),
    ("a" * MAX_PATH_LEN, "a" * MAX_PATH_LEN),
]


@pytest.mark.parametrize(("path", "reason"), TRAVERSALS)
def test_normalize_traversal_refused(path: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=f"artifact_path .* is refused: .*({reason})") as info:
        normalize_artifact_path(path)
    assert info.value.field == "artifact_path"
    assert info.value.hint


@pytest.mark.parametrize(("path", "expected"), GOOD)
def test_normalize_clean_path_returned(path: str, expected: str) -> None:
    assert normalize_artifact_path(path) == expected


@pytest.mark.parametrize("path", ["", ".", "./", "./."])
def test_normalize_root_refused_by_default(path: str) -> None:
    with pytest.raises(InvalidInput, match="names no file"):
        normalize_artifact_path(path)


@pytest.mark.parametrize("path", ["", ".", "./."])
def test_normalize_root_allowed_when_asked(path: str) -> None:
    assert normalize_artifact_path(path, allow_root=True) == ""


def test_normalize_too_long_refused() -> None:
    with pytest.raises(InvalidInput, match=f"longer than {MAX_PATH_LEN}"):
        normalize_artifact_path("a" * (MAX_PATH_LEN + 1))


def test_normalize_error_names_field() -> None:
    with pytest.raises(InvalidInput, match=r"^dataset_path '\.\./x' is refused") as info:
        normalize_artifact_path("../x", field="dataset_path")
    assert info.value.field == "dataset_path"


def test_normalize_non_string_refused() -> None:
    with pytest.raises(InvalidInput, match=r"must be a string, not (Posix|Windows)Path"):
        normalize_artifact_path(Path("a"))  # type: ignore[arg-type]


def test_safe_local_join_stays_inside(tmp_path: Path) -> None:
    assert safe_local_join(tmp_path, "a/./b") == tmp_path.resolve() / "a" / "b"
    assert safe_local_join(tmp_path, "") == tmp_path.resolve()


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "%2e%2e/x"])
def test_safe_local_join_traversal_refused(tmp_path: Path, rel: str) -> None:
    with pytest.raises(InvalidInput, match="is refused"):
        safe_local_join(tmp_path, rel)


def test_safe_local_join_symlink_outside_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret").write_text("s")
    os.symlink(outside / "secret", root / "link")
    os.symlink(outside, root / "dirlink")
    with pytest.raises(InvalidInput, match="leads outside"):
        safe_local_join(root, "link")
    with pytest.raises(InvalidInput, match="leads outside"):
        safe_local_join(root, "dirlink/new-file")


def test_safe_local_join_symlink_inside_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "alias")
    assert safe_local_join(tmp_path, "alias/f") == tmp_path.resolve() / "real" / "f"
