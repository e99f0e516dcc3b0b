"""ASHA by its registry name in an experiment: the trials it stops, and where."""
from nas_core.pruning.testing import steps_done_by_width


def test_asha_by_name_stops_the_expected_trials(tmp_path):
    # rungs at epochs 1, 3, 9: at epoch 1 the k-th trial goes on only if in the top max(k // 3, 1)
    assert steps_done_by_width("asha", tmp_path) == {3: 9, 1: 1, 6: 9, 2: 1, 5: 1, 4: 1}
