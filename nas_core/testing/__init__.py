"""Helpers for testing nas-core plugins (the pytest plugin is :mod:`nas_core.testing.pytest_plugin`)."""
from nas_core.testing.fake_dist import FakeDistribution, make_fake_distribution
from nas_core.testing.registry import registry_with, using_plugins

__all__ = ["FakeDistribution", "make_fake_distribution", "registry_with", "using_plugins"]
