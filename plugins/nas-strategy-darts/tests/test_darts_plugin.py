"""The `darts` plugin registers through the hooks and validates its arguments (the one-shot kit)."""
import pytest

from nas_core.oneshot.testing import BAD_ARGUMENTS, assert_registered, assert_rejects


def test_registered_by_name():
    assert_registered("darts")


@pytest.mark.parametrize("kwargs, match", BAD_ARGUMENTS)
def test_bad_arguments(kwargs, match):
    assert_rejects("darts", kwargs, match)
