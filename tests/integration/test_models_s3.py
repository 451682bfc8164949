"""Models on an S3 artifact store (moto on 127.0.0.1): log, register, load, refuse tampering."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import loopml
from loopml.errors import IntegrityError
from loopml.registry import clear_cache, get_version
from loopml.workspace import default_workspace

pytestmark = pytest.mark.s3


def test_a_registered_model_loads_from_s3_and_tampering_is_refused(s3_home: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    loopml.log_model(model, registered_model_name="s3model")
    loaded = loopml.load_model("models:/s3model/1")
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))

    blobs = default_workspace().blobs
    digest = get_version("s3model", 1).files["model.skops"]
    blobs.fs.pipe_file(blobs.blob_path(digest), b"not the model")
    clear_cache()  # a remote store has no cheap change check: a fresh process would load again
    with pytest.raises(IntegrityError, match=r"model 's3model' version 1, file model\.skops"):
        loopml.load_model("models:/s3model/1")
