"""The median stopping rule by its registry name in an experiment: the trials it stops, and where."""
from nas_core.pruning.testing import steps_done_by_width


def test_median_by_name_stops_the_expected_trials(tmp_path):
    # at epoch 1: width 1 < median(0.15); 2 < lower median(0.15, 0.3); 4 < median(0.15, 0.25, 0.3)
    assert steps_done_by_width("median", tmp_path) == {3: 9, 1: 1, 6: 9, 2: 1, 5: 9, 4: 1}
