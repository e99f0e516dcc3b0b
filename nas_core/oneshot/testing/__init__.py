"""Pieces and a conformance kit for testing one-shot strategies.

* :mod:`~nas_core.oneshot.testing.pieces`: :class:`DigitsOneShotSpace`, :class:`MacsProfiler`,
  :class:`ZeroLossTrainer`, :class:`RandomDataTrainer`, :class:`LookupLatency`, :func:`random_probs`;
* :mod:`~nas_core.oneshot.testing.kit`: :class:`OneShotStrategyKit` /
  :class:`DifferentiableOneShotKit`, which a plugin subclasses in its tests, and the checks
  they run as plain functions (``assert_registered``, ``assert_rejects``, ...).
"""
from nas_core.oneshot.testing.kit import (
    BAD_ARGUMENTS, DifferentiableOneShotKit, OneShotStrategyKit, assert_epochs_stored, assert_export_file_reloads,
    assert_penalty_moves_to_cheaper, assert_registered, assert_rejects, assert_retrained_export_is_best_retrained,
    assert_runs_in_experiment,
    assert_same_seed_same_export, assert_warmup_freezes_logits, assert_wrong_penalty_refused, fresh_space,
    median_random_accuracy, middle_budget, retrained_accuracy,
)
from nas_core.oneshot.testing.pieces import (
    DIGITS_OP1_MS, DigitsOneShotSpace, LookupLatency, MacsProfiler, RandomDataTrainer, ZeroLossTrainer, conv_block,
    random_probs,
)

__all__ = ["MacsProfiler", "DigitsOneShotSpace", "ZeroLossTrainer", "RandomDataTrainer", "conv_block", "LookupLatency",
           "DIGITS_OP1_MS", "random_probs", "BAD_ARGUMENTS",
           "assert_registered", "assert_rejects", "assert_wrong_penalty_refused", "assert_same_seed_same_export",
           "assert_warmup_freezes_logits", "assert_penalty_moves_to_cheaper", "assert_runs_in_experiment",
           "assert_export_file_reloads", "assert_retrained_export_is_best_retrained", "assert_epochs_stored",
           "fresh_space", "middle_budget", "retrained_accuracy", "median_random_accuracy", "OneShotStrategyKit",
           "DifferentiableOneShotKit"]
