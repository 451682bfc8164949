"""Data versions and run artifacts end to end with the artifact store on S3 (moto on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import loopml
from loopml.tracking import maintenance
from loopml.tracking.backend import default_backend

pytestmark = pytest.mark.s3


def test_table_and_folder_versions_on_s3(s3_home: str, tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": range(100), "y": ["a", "b"] * 50})
    version = loopml.data.add("t", frame)
    pd.testing.assert_frame_equal(loopml.data.get("t@1"), frame)
    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("alpha")
    (folder / "b.txt").write_text("beta")
    assert loopml.data.add("f", folder).version == 1
    assert loopml.data.add("f", folder).version == 1
    out = loopml.data.get("f@1", dst=tmp_path / "out")
    assert (out / "sub" / "a.txt").read_text() == "alpha"
    with loopml.start_run() as run:
        loopml.log_input(version)
        loopml.log_text("on s3", "notes.txt")
    assert (
        loopml.download_artifacts(run.run_id, "notes.txt", tmp_path / "dl").read_text() == "on s3"
    )
    report = maintenance.fsck(default_backend())
    assert report.ok
    assert report.checked >= 4  # table, manifest, pack of small files, the run's text
