import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # nnmeter_mbv2_space, shared with the benchmark

RULES = {"BF_conv_bn": {"obey": True}, "BF_conv_relu": {"obey": True}, "BF_dwconv_bn": {"obey": True},
         "BF_dwconv_relu": {"obey": True}, "BF_bn_relu": {"obey": True}, "BF_add_relu": {"obey": True},
         "MON": {"obey": 0}}
DIMS = {"conv-bn-relu": 7, "dwconv-bn-relu": 7, "fc": 4, "global-avgpool": 2, "add": 3, "addrelu": 3, "relu": 2,
        "bn": 2, "bnrelu": 2, "maxpool": 5, "avgpool": 5}


@pytest.fixture(autouse=True)
def _isolated_homes(tmp_path, monkeypatch):
    """Keep the registry and nn-Meter's ~/.nn_meter inside the test's temporary folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NAS_NNMETER_HOME", str(tmp_path / "nas_nnmeter"))


@pytest.fixture(scope="session")
def synthetic_predictor(tmp_path_factory):
    """An nn-Meter predictor folder with small regressors on synthetic data (no measurement)."""
    from sklearn.ensemble import RandomForestRegressor

    folder = tmp_path_factory.mktemp("synthetic_predictor")
    rng = np.random.default_rng(0)
    for k, d in DIMS.items():
        X = rng.uniform(0, 200, (120, d))
        y = X @ rng.uniform(0.01, 0.1, d) + 0.05
        with open(folder / f"{k}.pkl", "wb") as fh:
            pickle.dump(RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y), fh)
    (folder / "fusion_rules.json").write_text(json.dumps(RULES))
    return folder
