"""Lessons turned into checks: settings are read in one place; migrations and HEAD agree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import loopml
from loopml.store import migrate
from loopml.store.migrations import HEAD

PACKAGE = Path(loopml.__file__).parent


def test_only_config_reads_os_environ() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if (path.name == "config.py" and path.parent == PACKAGE) or "testing" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []


def test_head_constant_matches_migration_scripts() -> None:
    assert migrate.script_head() == HEAD


def test_import_loopml_stays_light() -> None:
    heavy = "{'sqlalchemy', 'pandas', 'numpy', 'fsspec', 'typer'}"
    code = (
        "import sys, loopml; "
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
