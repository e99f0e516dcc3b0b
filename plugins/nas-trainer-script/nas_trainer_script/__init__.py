"""nas-trainer-script: each trial runs your own training script, registered as ``script``."""
import nas_core

from nas_trainer_script.trainer import ScriptTrainer, ScriptTrialError

__all__ = ["ScriptTrainer", "ScriptTrialError"]


@nas_core.hookimpl
def register_trainers(register):
    register("script", ScriptTrainer)
