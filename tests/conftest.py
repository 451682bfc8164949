"""Shared fixtures: an isolated project home per test, and PostgreSQL when reachable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("loopml.testing")

from loopml.tracking import fluent  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
_CLEARED = ("LOOPML_HOME", "LOOPML_STORE_URI", "LOOPML_ARTIFACT_URI", "LOOPML_EXPERIMENT_NAME")


@pytest.fixture
def tmp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh project: LOOPML_HOME points at tmp_path/.loopml and the fluent API starts clean."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / ".loopml"
    home.mkdir()
    monkeypatch.setenv("LOOPML_HOME", str(home))
    monkeypatch.setenv("LOOPML_CAPTURE_GIT", "false")
    monkeypatch.chdir(tmp_path)
    fluent.reset()
    yield home
    fluent.reset()


def postgres_admin_url() -> str | None:
    """The PostgreSQL server tests may use, or None (tests skip) when none is reachable."""
    explicit = os.environ.get("LOOPML_TEST_POSTGRES_URL")
    url = explicit or DEFAULT_POSTGRES_URL
    try:
        import psycopg

        with psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3
        ):
            return url
    except Exception as exc:
        if explicit:
            pytest.fail(f"LOOPML_TEST_POSTGRES_URL={explicit} is set but unreachable: {exc}")
        return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = postgres_admin_url()
    if url is None:
        pytest.skip(
            f"PostgreSQL not reachable at {DEFAULT_POSTGRES_URL} and LOOPML_TEST_POSTGRES_URL unset"
        )
    return url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A brand-new empty database on the test server, dropped afterwards."""
    import psycopg

    admin = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    name = f"loopml_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _db = admin.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
