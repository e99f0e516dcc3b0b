"""Issue #19, the core's part: the warm-up default, fair path sampling, the top-k enumeration and export settings
(that the penalty costs only what exceeds the budget is tested on the MACs of torch layers, with the torch formula
pack: plugins/nas-shapes-torch/tests/oneshot/test_penalties.py). The strategies' part (warm-up freezes the
architecture, the checked export of a fitted search, the same seed exports the same architecture) runs in each one-shot
plugin's tests through the kit in nas_core.oneshot.testing."""
import itertools
import math

import pytest
import torch

from nas_core.oneshot.export import ExportConfig, top_k_samples
from nas_core.oneshot.sampling import FairPathSampler
from nas_core.oneshot.base import default_warmup


def test_default_warmup_is_forty_percent():
    assert [default_warmup(e) for e in (1, 2, 5, 10, 50)] == [0, 1, 2, 4, 20]


def test_fair_sampler_trains_every_candidate_equally_often():
    domains = {"a": [1, 2, 3], "b": ["x", "y"]}
    sampler = FairPathSampler(domains, torch.Generator().manual_seed(0))
    draws = [sampler() for _ in range(12)]
    for label, dom in domains.items():
        for start in range(0, 12, len(dom)):
            assert sorted(map(str, (d[label] for d in draws[start:start + len(dom)]))) == sorted(map(str, dom))


def test_top_k_samples_match_brute_force():
    gen = torch.Generator().manual_seed(5)
    domains = {"a": [0, 1, 2], "b": [0, 1], "c": [0, 1, 2, 3]}
    probs = {l: torch.softmax(torch.randn(len(d), generator=gen), -1) for l, d in domains.items()}
    accept = lambda s: s["a"] + s["c"] <= 3  # noqa: E731
    every = []
    for combo in itertools.product(*domains.values()):
        s = dict(zip(domains, combo))
        if accept(s):
            every.append((sum(math.log(float(probs[l][v])) for l, v in s.items()), s))
    every.sort(key=lambda t: -t[0])
    got = top_k_samples(probs, domains, 5, accept)
    assert [s for _, s in got] == [s for _, s in every[:5]]
    assert [round(lp, 9) for lp, _ in got] == [round(lp, 9) for lp, _ in every[:5]]


def test_export_config_rejects_bad_values():
    with pytest.raises(ValueError, match="top_k"):
        ExportConfig(top_k=0)
    with pytest.raises(ValueError, match="explore_floor"):
        ExportConfig(explore_floor=1.5)
    with pytest.raises(ValueError, match="tie_band"):
        ExportConfig(tie_band=-1)
