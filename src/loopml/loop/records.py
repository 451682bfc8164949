"""Reading the loop's history: cheap to import, so ``loopml loop history|show`` start fast."""

from __future__ import annotations

from typing import Any

from loopml.entities import LoopIteration
from loopml.workspace import Workspace, default_workspace


def iteration_dict(iteration: LoopIteration) -> dict[str, Any]:
    return {
        "iteration_id": iteration.iteration_id,
        "model": iteration.model_name,
        "status": iteration.status,
        "decision": iteration.decision,
        "reason": iteration.reason,
        "model_version": iteration.model_version,
        "data_version": iteration.data_version,
        "run_id": iteration.run_id,
        "start_time": iteration.start_time,
        "end_time": iteration.end_time,
        "record": dict(iteration.record),
    }


def history(
    model: str | None = None, *, limit: int = 50, workspace: Workspace | None = None
) -> list[LoopIteration]:
    """Iterations, newest first."""
    ws = workspace or default_workspace()
    return ws.store.loop.iterations(model, limit=limit)


def show(iteration_id: str, *, workspace: Workspace | None = None) -> LoopIteration:
    """One iteration (an id prefix of 8+ characters works)."""
    ws = workspace or default_workspace()
    return ws.store.loop.iteration(iteration_id)
