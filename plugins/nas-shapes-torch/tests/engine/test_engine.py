"""Shape engine: exact costs against FlopCounterMode, params, checks, errors, expectation."""
import itertools

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import nas_core.nn as nnn
from nas_core import ArchitectureError, search_space
from nas_core.errors import ProfilerError, ShapeInferenceError
from nas_core.shapes import (
    CostModel,
    CostModelProfiler,
    check_terms,
    leaf,
    op_cost_terms,
    param_terms,
    register_formula,
    trace,
    unregister_formula,
)
from nas_core.space import InputChoice, LayerChoice, ModelSpace, Repeat, ValueChoice
from nas_core.testing.seed_spaces import SkipNet


class WidthSpace(ModelSpace):
    """Width and kernel choices change downstream shapes; Repeat and LayerChoice with pooling."""

    def __init__(self):
        super().__init__()
        w = ValueChoice([8, 16], label="w")
        k = ValueChoice([3, 5], label="k")
        self.c1 = nnn.Conv2d(3, w, k, padding=k // 2)
        self.b1 = nnn.BatchNorm2d(w)
        self.op = LayerChoice([nnn.Conv2d(w, 2 * w, 3, stride=2, padding=1),
                               nn.Sequential(nn.MaxPool2d(2), nnn.Conv2d(w, 2 * w, 1))], label="op")
        self.rep = Repeat(lambda i: nn.Sequential(nnn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU()), (0, 2), label="d")
        self.skip = InputChoice(n_candidates=2, n_chosen=None, reduction="sum", label="skip")
        self.fc = nnn.Linear(2 * w * 4 * 4, ValueChoice([10, 12], label="out"))

    def forward(self, x):
        x = torch.relu(self.b1(self.c1(x)))
        y = self.op(x)
        z = self.rep(y)
        s = self.skip([y, z])
        if s is not None:
            z = z + s
        z = z.view(z.size(0), -1)
        return self.fc(z)


def _exact(model, x, n=None):
    space = search_space(model)
    tr = trace(model, x)
    macs = CostModel(space, op_cost_terms(tr, ["macs"]) + check_terms(tr))
    params = CostModel(space, param_terms(model))
    samples = list(space.enumerate()) if n is None else [space.random(i) for i in range(n)]
    for s in samples:
        frozen = space.freeze(s)
        with FlopCounterMode(display=False) as fc:
            frozen(x)
        assert macs.evaluate(s) * 2 == fc.get_total_flops(), s
        assert params.evaluate(s) == sum(p.numel() for p in frozen.parameters()), s
    return tr, macs, params


def test_seed_space_exact():
    _exact(SkipNet(fixed=True), torch.randn(1, 1, 28, 28))


def test_width_dependent_space_exact_and_batch():
    model = WidthSpace()
    _, macs, params = _exact(model, torch.randn(2, 3, 8, 8), n=40)
    samples = list(search_space(model).enumerate())
    for cm in (macs, params):
        by_terms = [sum(t(s) for g in cm.groups for t in g.terms) for s in samples]
        assert [cm.evaluate(s) for s in samples] == by_terms
        assert cm.evaluate_batch(iter(samples)).tolist() == by_terms
        assert cm._evaluate_tables(samples).tolist() == by_terms


def test_invalid_sample_names_layer():
    model = SkipNet()
    tr = trace(model, torch.randn(1, 1, 28, 28))

    class P(CostModelProfiler):
        def __init__(self):
            self.trace = tr
            self.cost_model = CostModel(search_space(model), op_cost_terms(tr, ["macs"]) + check_terms(tr))

    p = P()
    assert p.profile({"conv1": 0, "skipcon": []}) > 0
    with pytest.raises(ArchitectureError, match=r"'conv1': 1.*'fc1' \(Linear\).*9216.*576"):
        p.profile({"conv1": 1, "skipcon": []})


def test_expectation_equals_enumeration_and_gradient():
    model = WidthSpace()
    space = search_space(model)
    tr = trace(model, torch.randn(1, 3, 8, 8))
    cm = CostModel(space, op_cost_terms(tr, ["macs"]))
    torch.manual_seed(0)
    logits = {l: torch.randn(len(c.domain), dtype=torch.float64, requires_grad=True) for l, c in space.choices.items()}
    probs = {l: torch.softmax(v, 0) for l, v in logits.items()}
    expected = cm.expectation(probs)
    brute = 0.0
    for s in space.enumerate():
        p = 1.0
        for l, c in space.choices.items():
            p *= float(probs[l][c.index(s[l])].detach())
        brute += p * cm.evaluate(s)
    assert expected.item() == pytest.approx(brute, rel=1e-9)
    expected.backward()
    eps = 1e-6
    for l in space.labels:
        for i in range(len(space.choices[l].domain)):
            def f(delta):
                lg = {k: v.detach().clone() for k, v in logits.items()}
                lg[l][i] += delta
                return float(cm.expectation({k: torch.softmax(v, 0) for k, v in lg.items()}))
            fd = (f(eps) - f(-eps)) / (2 * eps)
            grad = 0.0 if logits[l].grad is None else logits[l].grad[i].item()
            assert grad == pytest.approx(fd, rel=1e-4, abs=1e-3)


def _myop(x):
    return torch.special.erfcx(x)  # an op no pack has a formula for


class UsesMyOp(ModelSpace):
    def __init__(self):
        super().__init__()
        self.c = nnn.Conv2d(1, ValueChoice([4, 8], label="w"), 3)

    def forward(self, x):
        return _myop(self.c(x))


def test_missing_formula_error_and_two_ways_out():
    model = UsesMyOp()
    x = torch.randn(1, 1, 6, 6)
    with pytest.raises(ShapeInferenceError) as err:
        trace(model, x)
    msg = str(err.value)
    assert "special_erfcx" in msg and "register_formula" in msg and "leaf" in msg
    register_formula("special_erfcx", lambda f, x: tuple(x.shape), costs=lambda f, out, x: {"activation": 1})
    try:
        tr = trace(model, x)
        cm = CostModel(search_space(model), op_cost_terms(tr, ["macs", "activation"]))
        assert cm.evaluate({"w": 4}) == 4 * 16 * 9 + 1
    finally:
        unregister_formula("special_erfcx")


def test_leaf_declaration_serves_shapes_and_costs():
    @leaf(shape="same", costs=lambda m, out, x: {"macs": 1000})
    class Opaque(nn.Module):
        def forward(self, x):
            return torch.special.erfcx(x) * 2

    class S(ModelSpace):
        def __init__(self):
            super().__init__()
            self.c = nnn.Conv2d(1, ValueChoice([4, 8], label="w"), 3)
            self.o = Opaque()

        def forward(self, x):
            return self.o(self.c(x))

    try:
        m = S()
        tr = trace(m, torch.randn(1, 1, 6, 6))
        assert [o.path for o in tr.ops] == ["c", "o"] and tr.ops[1].leaf
        cm = CostModel(search_space(m), op_cost_terms(tr, ["macs"]))
        assert cm.evaluate({"w": 8}) == 8 * 16 * 9 + 1000
    finally:
        unregister_formula(Opaque)


def test_unknown_constant_op_is_loud_not_zero():
    class S(ModelSpace):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(1, 4, 3)
            self.pick = LayerChoice([nn.ReLU(), nn.Tanh()], label="act")

        def forward(self, x):
            return self.pick(torch.special.erfcx(self.c(x)))

    m = S()
    tr = trace(m, torch.randn(1, 1, 6, 6))
    with pytest.raises(ProfilerError, match="special_erfcx"):
        op_cost_terms(tr, ["macs"])
    with pytest.warns(RuntimeWarning, match="special_erfcx"):
        op_cost_terms(tr, ["macs"], on_unknown="warn")


def test_subclass_inherits_formula():
    class MyConv(nn.Conv2d):
        pass

    class S(ModelSpace):
        def __init__(self):
            super().__init__()
            self.c = LayerChoice([MyConv(1, 4, 3), MyConv(1, 4, 5)], label="k")

        def forward(self, x):
            return self.c(x)

    m = S()
    tr = trace(m, torch.randn(1, 1, 8, 8))
    assert {o.name for o in tr.ops} == {"MyConv"}
    cm = CostModel(search_space(m), op_cost_terms(tr, ["macs"]))
    assert cm.evaluate({"k": 0}) == 4 * 36 * 9 and cm.evaluate({"k": 1}) == 4 * 16 * 25


def test_shapes_of_reports_choice_dependent_shapes():
    m = WidthSpace()
    tr = trace(m, torch.randn(1, 3, 8, 8))
    sample = {"w": 16, "k": 3, "op": 0, "d": 1, "skip": [], "out": 12}
    (inputs, out), = tr.shapes_of("fc", sample)
    assert inputs == [(1, 512)] and out == (1, 12)
    # every module call is recorded with its condition: the second Repeat block runs only at depth 2
    (block1,) = tr.calls_of(m.rep.blocks[1])
    assert block1.input_shapes(sample) == [(1, 32, 4, 4)]
    from nas_core.shapes import evaluate_sym
    assert evaluate_sym(block1.cond, sample) is False and evaluate_sym(block1.cond, {**sample, "d": 2}) is True
