"""Pipelines: steps whose outputs are stored by content and reused from a cache.

``@loopml.step`` and ``@loopml.pipeline`` define them, ``loopml.run_pipeline`` runs them (in this
process, in local processes or on Dask), ``loopml.tune`` searches their parameters with Optuna.
"""

from loopml.pipelines.definition import Pipeline, Step, pipeline, step
from loopml.pipelines.loading import load_pipeline
from loopml.pipelines.materializers import register_materializer
from loopml.pipelines.runner import (
    PipelineFailed,
    PipelineRun,
    StepRun,
    load_pipeline_run,
    resume_pipeline,
    run_pipeline,
)
from loopml.pipelines.tune import Trial, TuneResult, tune

__all__ = [
    "Pipeline",
    "PipelineFailed",
    "PipelineRun",
    "Step",
    "StepRun",
    "Trial",
    "TuneResult",
    "load_pipeline",
    "load_pipeline_run",
    "pipeline",
    "register_materializer",
    "resume_pipeline",
    "run_pipeline",
    "step",
    "tune",
]
