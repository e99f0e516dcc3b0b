"""Plugin-authoring mistakes fail loudly: symbolic comparisons, cost kinds, raising costs, generated source."""
import linecache
import traceback

import pytest
import torch
from torch import nn

import nas_core.nn as nnn
from nas_core import search_space
from nas_core.errors import ShapeInferenceError
from nas_core.shapes import CostModel, check_terms, hp, op_cost_terms, register_formula, trace, unregister_formula
from nas_core.shapes.sym import Sym, evaluate_sym
from nas_core.shapes.trace import require
from nas_core.space import ModelSpace, ValueChoice


class Scale(nn.Module):
    """A custom layer that only works when the input has ``channels`` channels."""

    def __init__(self, channels):
        super().__init__()
        self.channels = channels

    def forward(self, x):
        return x * 2


class ScaleSpace(ModelSpace):
    def __init__(self):
        super().__init__()
        w = ValueChoice([4, 8], label="w")
        self.conv = nnn.Conv2d(3, w, 3, padding=1)
        self.scale = Scale(8)

    def forward(self, x):
        return self.scale(self.conv(x))


@pytest.fixture
def scale_formula():
    yield lambda **kw: register_formula(Scale, **kw)
    unregister_formula(Scale)


def test_sym_comparisons_are_symbolic():
    s = Sym({"w"}, lambda smp: smp["w"])
    for expr, w, expected in [(s == 8, 8, True), (s == 8, 4, False), (s != 8, 4, True), (s < 8, 4, True),
                              (s <= 4, 8, False), (s > 4, 8, True), (s >= 9, 8, False), (8 == s, 8, True)]:
        assert isinstance(expr, Sym)
        assert evaluate_sym(expr, {"w": w}) is expected
    with pytest.raises(TypeError, match="require"):
        bool(s == 8)


def test_require_with_sym_equality_rejects_only_mismatching_samples(scale_formula):
    def infer(m, x):
        require(x.shape[1] == hp(m, "channels"), "Scale needs 8 channels")
        return x.shape

    scale_formula(formula=infer, costs=lambda m, out, x: {"elementwise": x.shape[1]})
    model = ScaleSpace()
    tr = trace(model, torch.randn(1, 3, 8, 8))
    cost = CostModel(search_space(model), op_cost_terms(tr, ["elementwise"]) + check_terms(tr))
    assert cost.evaluate({"w": 8}) == 8.0
    assert cost.evaluate({"w": 4}) != cost.evaluate({"w": 4})  # NaN: the check rejects it


def test_unknown_cost_kind_is_an_error_listing_known_kinds(scale_formula):
    scale_formula(formula=lambda m, x: x.shape, costs=lambda m, out, x: {"maccs": 1})
    with pytest.raises(ShapeInferenceError) as err:
        trace(ScaleSpace(), torch.randn(1, 3, 8, 8))
    msg = str(err.value)
    assert "'maccs'" in msg and "'macs'" in msg and "'scale'" in msg and "registered by user" in msg


def test_raising_costs_function_names_the_formula_not_the_dummy_input(scale_formula):
    def costs(m, out, x):
        raise ZeroDivisionError("oops")

    scale_formula(formula=lambda m, x: x.shape, costs=costs)
    with pytest.raises(ShapeInferenceError) as err:
        trace(ScaleSpace(), torch.randn(1, 3, 8, 8))
    msg = str(err.value)
    assert "ZeroDivisionError: oops" in msg and "'scale'" in msg and "registered by user" in msg
    assert "dummy input" not in msg


def test_generated_cost_code_shows_its_source_in_tracebacks():
    model = ScaleSpace()
    space = search_space(model)
    cost = CostModel(space, [])
    filename = cost.evaluate.__code__.co_filename
    assert "return" in "".join(linecache.getlines(filename))

    def bad_get(_):
        raise RuntimeError("boom")

    cost.evaluate.__globals__["_get"] = bad_get
    try:
        cost.evaluate({"w": 4})
    except RuntimeError:
        text = traceback.format_exc()
    assert "_get(s)" in text  # the generated line is printed, not just '<nas_core.costmodel>'
