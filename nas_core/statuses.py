"""The status of a trial, as stored and reported (torch-free: reading commands import it cheaply)."""
from __future__ import annotations

__all__ = ["SUCCEEDED", "FAILED", "REJECTED", "PRUNED", "TIMEOUT", "STATUSES"]

SUCCEEDED, FAILED, REJECTED = "succeeded", "failed", "rejected"
#: stopped early by a pruner (its last intermediate metric is the result, marked ``partial``)
PRUNED = "pruned"
#: stopped at the experiment's ``trial_timeout``
TIMEOUT = "timeout"
#: every status, in the order reports list them
STATUSES = (SUCCEEDED, FAILED, REJECTED, PRUNED, TIMEOUT)
