"""`crossingguard train` reproduces the shipped encoder heads and ensemble weights exactly from
../shared/data (slow: embeds ~17,000 texts the first time; `make models` runs it, and the default
suite leaves it out). The embedding cache (.cache/embeddings/) makes a second run take seconds."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from classifiers.datasets import default_data_dir
from classifiers.textmodels import default_model_dir
from tests.classifiers.test_commands import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_dir(request):
    if "slow" not in (request.config.option.markexpr or "") or "not slow" in request.config.option.markexpr:
        pytest.skip("full retraining: run with -m slow (make models)")
    d = default_data_dir()
    if not (d / "olid" / "train.csv").is_file():
        pytest.skip(f"{d}: the shared data sets are not here (set CROSSINGGUARD_DATA)")
    return d


def test_train_reproduces_the_shipped_heads(tmp_path, capsys, monkeypatch, data_dir):
    shipped = default_model_dir()
    for f in shipped.iterdir():
        if f.suffix in (".json", ".npz") and not f.name.startswith("heads"):
            shutil.copy(f, tmp_path / f.name)
    rc, out, err = run_cli(["train", "--heads-only", "--data", str(data_dir), "--out", str(tmp_path)],
                           capsys, monkeypatch)
    assert rc == 0, err
    assert json.loads((tmp_path / "heads.json").read_text()) == json.loads((shipped / "heads.json").read_text())
    with np.load(tmp_path / "heads.npz") as got, np.load(shipped / "heads.npz") as want:
        assert sorted(got.files) == sorted(want.files)
        for name in want.files:
            assert np.array_equal(got[name], want[name]), name
