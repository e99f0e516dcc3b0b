"""nas-trainer-classification: a plain PyTorch supervised loop, registered as ``classification``."""
import nas_core

from nas_trainer_classification.data import digits_dataset, make_dataset
from nas_trainer_classification.trainer import ClassificationTrainer, NonFiniteLossError

__all__ = ["ClassificationTrainer", "NonFiniteLossError", "digits_dataset", "make_dataset"]


@nas_core.hookimpl
def register_trainers(register):
    register("classification", ClassificationTrainer)
