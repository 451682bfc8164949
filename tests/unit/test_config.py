"""Settings: where the home is found, defaults, overrides and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.config import Settings
from loopml.errors import ConfigError


def test_home_found_by_walking_up(tmp_path: Path) -> None:
    (tmp_path / ".loopml").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    settings = Settings.from_env({}, cwd=deep)
    assert settings.home == (tmp_path / ".loopml").resolve()
    assert settings.store_uri == f"sqlite:///{settings.home / 'loopml.db'}"
    assert settings.artifact_uri == str(settings.home / "artifacts")
    assert "walking up" in settings.sources["home"]


def test_home_defaults_to_current_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({}, cwd=tmp_path)
    assert settings.home == (tmp_path / ".loopml").resolve()
    assert settings.sources["home"].startswith("default")


def test_environment_overrides_win(tmp_path: Path) -> None:
    env = {
        "LOOPML_HOME": str(tmp_path / "h"),
        "LOOPML_STORE_URI": "postgresql://db/x",
        "LOOPML_ARTIFACT_URI": "s3://bucket/p",
        "LOOPML_FLUSH_INTERVAL": "0.5",
        "LOOPML_CAPTURE_GIT": "no",
    }
    settings = Settings.from_env(env, cwd=tmp_path)
    assert settings.home == (tmp_path / "h").resolve()
    assert (settings.store_uri, settings.artifact_uri) == ("postgresql://db/x", "s3://bucket/p")
    assert settings.flush_interval == 0.5 and settings.capture_git is False
    assert settings.sources["store_uri"] == "LOOPML_STORE_URI"


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("LOOPML_FLUSH_INTERVAL", "soon", "LOOPML_FLUSH_INTERVAL='soon' is not valid"),
        ("LOOPML_FLUSH_INTERVAL", "-1", "must be greater than 0"),
        ("LOOPML_FLUSH_MAX_POINTS", "1.5", "LOOPML_FLUSH_MAX_POINTS='1.5' is not valid"),
        ("LOOPML_CAPTURE_GIT", "maybe", "not a boolean"),
    ],
)
def test_bad_values_name_variable_and_value(
    tmp_path: Path, name: str, value: str, match: str
) -> None:
    with pytest.raises(ConfigError, match=match) as caught:
        Settings.from_env({name: value}, cwd=tmp_path)
    assert caught.value.field == name
