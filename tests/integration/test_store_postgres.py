"""The store conformance suite on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loopml.store import Store, open_store
from loopml.testing.store import StoreConformance
from loopml.testing.store_datasets import DatasetStoreConformance
from loopml.testing.store_loop import LoopStoreConformance
from loopml.testing.store_models import ModelStoreConformance
from loopml.testing.store_monitors import MonitorStoreConformance
from loopml.testing.store_pipelines import PipelineStoreConformance
from loopml.testing.store_predictions import PredictionLogStoreConformance

pytestmark = pytest.mark.postgres


@pytest.fixture
def store(postgres_url: str) -> Iterator[Store]:
    opened = open_store(postgres_url)
    yield opened
    opened.close()


class TestPostgresStore(
    StoreConformance,
    DatasetStoreConformance,
    ModelStoreConformance,
    PipelineStoreConformance,
    PredictionLogStoreConformance,
    MonitorStoreConformance,
    LoopStoreConformance,
):
    pass
