"""Pipelines written to files, as users write them, and loaded the way the CLI loads them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loopml.pipelines import Pipeline, load_pipeline

HEADER = "import loopml\nimport pandas as pd\nimport numpy as np\n"


@pytest.fixture
def write_pipeline(tmp_home: Path) -> Callable[..., Pipeline]:
    """Write ``source`` to ``name`` in the project folder and load ``reference`` from it."""

    def write(source: str, reference: str = "flow.py:flow", name: str = "flow.py") -> Pipeline:
        path = tmp_home.parent / name
        path.write_text(HEADER + textwrap.dedent(source), encoding="utf-8")
        return load_pipeline(reference, root=tmp_home.parent)

    return write


def ran(result: Any) -> list[str]:
    """The steps that ran (were not reused from the cache)."""
    return [name for name, step in result.steps.items() if not step.cached]
