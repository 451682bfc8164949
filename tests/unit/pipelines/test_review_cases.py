"""Cases a review found: constants, body imports, fan-in, typed params, lineage, resume."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import loopml
from loopml.errors import InvalidInput
from loopml.pipelines import Pipeline, PipelineFailed, resume_pipeline, run_pipeline

from .conftest import ran


def test_a_module_constant_is_part_of_the_key(write_pipeline: Callable[..., Pipeline]) -> None:
    source = """
    THRESHOLD = 3

    @loopml.step
    def pick() -> int:
        return THRESHOLD

    @loopml.pipeline
    def flow():
        return pick()
    """
    assert run_pipeline(write_pipeline(source)).output == 3
    changed = run_pipeline(write_pipeline(source.replace("= 3", "= 4")))
    assert ran(changed) == ["pick"] and changed.output == 4
    assert changed.steps["pick"].reason == "ran: value of `THRESHOLD` changed"


def test_a_module_imported_inside_a_step_is_followed(
    write_pipeline: Callable[..., Pipeline], tmp_home: Path
) -> None:
    sys.modules.pop("inner_helper", None)
    helper = tmp_home.parent / "inner_helper.py"
    helper.write_text("def k():\n    return 6\n")
    source = """
    @loopml.step
    def use() -> int:
        import inner_helper
        return inner_helper.k()

    @loopml.pipeline
    def flow():
        return use()
    """
    assert run_pipeline(write_pipeline(source)).output == 6
    helper.write_text("def k():\n    return 7\n")
    importlib.reload(sys.modules["inner_helper"])
    assert run_pipeline(write_pipeline(source)).output == 7


def test_fan_in_of_a_list_and_a_dict_of_outputs(write_pipeline: Callable[..., Pipeline]) -> None:
    source = """
    @loopml.step
    def part(i: int) -> pd.DataFrame:
        return pd.DataFrame({"x": [i]})

    @loopml.step
    def concat(parts: list, named: dict) -> pd.DataFrame:
        return pd.concat([*parts, *named.values()], ignore_index=True)

    @loopml.pipeline
    def flow():
        parts = [part(i) for i in range(3)]
        return concat(parts, {"extra": part(9)})
    """
    result = run_pipeline(write_pipeline(source))
    assert result.output.x.tolist() == [0, 1, 2, 9]
    assert ran(run_pipeline(write_pipeline(source))) == []
    mixed = source.replace("return concat(parts,", "return concat([*parts, 5],")
    with pytest.raises(InvalidInput, match="mixes step outputs and plain values"):
        run_pipeline(write_pipeline(mixed))


def test_params_take_the_type_of_their_annotation_or_default(
    write_pipeline: Callable[..., Pipeline],
) -> None:
    source = """
    from typing import Literal, Optional
    from pathlib import Path

    @loopml.step
    def echo(values: dict) -> dict:
        return values

    @loopml.pipeline
    def flow(
        C=0.5, name: Optional[str] = None, mode: Literal["a", "b"] = "a", where: Path = Path(".")
    ):
        return echo({"C": C, "name": name, "mode": mode, "where": str(where)})
    """
    pipeline = write_pipeline(source)
    result = run_pipeline(pipeline, params={"C": "2", "name": "abc", "mode": "b", "where": "x/y"})
    assert result.output == {"C": 2.0, "name": "abc", "mode": "b", "where": "x/y"}
    assert run_pipeline(pipeline, params={"name": "none"}).output["name"] is None
    with pytest.raises(InvalidInput, match="parameter 'mode' of pipeline 'flow' must be"):
        run_pipeline(pipeline, params={"mode": "c"})


def test_a_reused_step_still_records_its_data_as_an_input(
    write_pipeline: Callable[..., Pipeline],
) -> None:
    loopml.data.add("sales", pd.DataFrame({"x": [1.0]}))
    source = """
    @loopml.step
    def load(version) -> pd.DataFrame:
        return loopml.data.get(version)

    @loopml.step
    def scale(df: pd.DataFrame, k: float) -> pd.DataFrame:
        return df * k

    @loopml.pipeline
    def flow(k: float = 1.0):
        return scale(load(loopml.data.show("sales@1")), k)
    """
    run_pipeline(write_pipeline(source))
    second = run_pipeline(write_pipeline(source), params={"k": 2.0})
    assert second.steps["load"].cached
    assert loopml.LoopMLClient().list_inputs(second.run_id) == [("sales@1", "version")]


def test_a_run_started_from_python_can_be_resumed(tmp_home: Path) -> None:
    root = tmp_home.parent
    (root / "importable_flow.py").write_text(
        "import loopml\n\n"
        "@loopml.step\ndef fail(x: int) -> int:\n"
        "    if not __import__('pathlib').Path('ok').exists():\n        raise ValueError('no')\n"
        "    return x\n\n"
        "@loopml.pipeline\ndef flow(x: int = 3):\n    return fail(x)\n"
    )
    sys.path.insert(0, str(root))
    try:
        sys.modules.pop("importable_flow", None)
        module = importlib.import_module("importable_flow")
        with pytest.raises(PipelineFailed, match="ValueError: no") as caught:
            run_pipeline(module.flow)
        (root / "ok").write_text("yes")
        assert resume_pipeline(caught.value.run.run_id).output == 3
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("importable_flow", None)


def test_a_dict_of_frames_and_arrays_is_an_output(write_pipeline: Callable[..., Pipeline]) -> None:
    source = """
    @loopml.step
    def both() -> dict:
        return {"frame": pd.DataFrame({"x": [1]}), "array": np.arange(2), "score": 0.5}

    @loopml.pipeline
    def flow():
        return both()
    """
    output = run_pipeline(write_pipeline(source)).output
    assert output["score"] == 0.5 and output["array"].tolist() == [0, 1]
    pd.testing.assert_frame_equal(output["frame"], pd.DataFrame({"x": [1]}))


def test_python_and_the_cli_loader_share_cache_keys(tmp_home: Path) -> None:
    from loopml.pipelines import load_pipeline

    root = tmp_home.parent
    (root / "shared_flow.py").write_text(
        "import loopml\n\n@loopml.step\ndef one() -> int:\n    return 1\n\n"
        "@loopml.pipeline\ndef flow():\n    return one()\n"
    )
    run_pipeline(load_pipeline("shared_flow.py:flow", root=root))
    sys.path.insert(0, str(root))
    try:
        sys.modules.pop("shared_flow", None)
        imported: Any = importlib.import_module("shared_flow")
        assert ran(run_pipeline(imported.flow)) == []
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("shared_flow", None)
