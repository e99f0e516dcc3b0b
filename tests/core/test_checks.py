"""One family of argument checks (nas_core.checks) and of errors, used by strategies,
one-shot strategies and the experiment runner alike."""
import math

import pytest

from nas_core.checks import check_choice, check_int, check_number, check_prob
from nas_core.errors import ConfigError, ConfigTypeError, NasError, SpaceDefinitionError


def test_check_int_accepts_and_converts():
    assert check_int("Owner", "n", 3, 1) == 3 and type(check_int("Owner", "n", 3, 0, 5)) is int
    assert check_int("Owner", "n", None, 1, allow_none=True) is None


@pytest.mark.parametrize("value", [0, 1.5, "3", True, None, 11])
def test_check_int_names_owner_argument_bounds_and_value(value):
    with pytest.raises(ConfigError, match=rf"^Owner: n must be an integer >= 1 and <= 10, got {value!r}\.$"):
        check_int("Owner", "n", value, 1, 10)


def test_check_number_strict_and_inclusive():
    assert check_number("O", "x", 0, 0.0) == 0.0
    with pytest.raises(ConfigError, match=r"O: x must be a number > 0, got 0\."):
        check_number("O", "x", 0, 0.0, strict=True)
    with pytest.raises(ConfigError, match="must be a number >= 0.001"):
        check_number("O", "x", math.nan, 0.001)
    assert check_number("O", "x", None, allow_none=True) is None


def test_check_prob_and_choice():
    assert check_prob("O", "p", 1) == 1.0
    with pytest.raises(ConfigError, match=r"O: p must be a probability in \[0, 1\], got 1.5\."):
        check_prob("O", "p", 1.5)
    assert check_choice("O", "mode", "val", ("split", "val")) == "val"
    with pytest.raises(ConfigError, match="O: mode must be 'split' or 'val', got 'test'."):
        check_choice("O", "mode", "test", ("split", "val"))


def test_without_owner_the_message_starts_with_the_argument():
    with pytest.raises(ConfigError, match=r"^max_trials must be an integer >= 1"):
        check_int("", "max_trials", 0, 1)


def test_the_three_users_share_the_checks():
    from nas_core.experiment import settings
    from nas_core.oneshot import base as oneshot_base
    from nas_core.strategy import base as strategy_base

    assert strategy_base.check_int is check_int and strategy_base.check_prob is check_prob
    with pytest.raises(ConfigError, match="DARTS: epochs must be an integer >= 1, got 0"):
        oneshot_base.check_positive_int("DARTS", "epochs", 0)
    with pytest.raises(ConfigError, match="DARTS: arch_fraction must be a number > 0, got 0"):
        oneshot_base.check_positive("DARTS", "arch_fraction", 0)
    assert settings.positive("max_trials", 3.0) == 3 and settings.positive("max_trials", None) is None
    with pytest.raises(ConfigError, match="max_trials must be an integer >= 1"):
        settings.positive("max_trials", 2.5)


def test_config_type_error_is_both_a_config_error_and_a_type_error():
    err = ConfigTypeError("x")
    assert isinstance(err, ConfigError) and isinstance(err, NasError) and isinstance(err, TypeError)


def test_non_finite_objective_is_a_nas_error():
    from nas_core.experiment.trial import NonFiniteObjectiveError

    err = NonFiniteObjectiveError("nan")
    assert isinstance(err, NasError) and isinstance(err, FloatingPointError)


def test_one_shot_errors_are_nas_errors():
    from nas_core.oneshot import ExpectationProfilerPenalty, RangeProfilerFilter
    from nas_core.oneshot.estimator import EstimatedExpectationProfiler
    from nas_core.oneshot.testing import DigitsOneShotSpace

    class ConstantProfiler:
        def profile(self, sample):
            return 1.0

    space = DigitsOneShotSpace()
    profiler = ConstantProfiler()
    with pytest.raises(ConfigError, match="baseline must be a positive number"):
        ExpectationProfilerPenalty(profiler, baseline=0)
    with pytest.raises(ConfigTypeError, match="needs a profiler"):
        ExpectationProfilerPenalty(object(), baseline=1.0)
    with pytest.raises(ConfigError, match="needs min, max or both"):
        RangeProfilerFilter(profiler)
    with pytest.raises(ConfigError, match="EstimatedExpectationProfiler: num_samples must be an integer >= 2"):
        EstimatedExpectationProfiler(profiler, space, num_samples=1)
    from nas_core.oneshot.export import ExportConfig
    from nas_core.oneshot.sampling import FairPathSampler

    with pytest.raises(ConfigError, match="tie_band"):
        ExportConfig(tie_band=-1)
    with pytest.raises(ConfigError, match="FairPathSampler needs at least one label"):
        FairPathSampler({}, generator=None)


def test_an_input_choice_fed_the_wrong_number_of_inputs_is_a_space_error():
    from nas_core.space import InputChoice

    choice = InputChoice(n_candidates=2, n_chosen=1, label="skip")
    with pytest.raises(SpaceDefinitionError, match="InputChoice 'skip' expects 2 inputs, got 1"):
        choice([1])
