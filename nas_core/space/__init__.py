"""Search-space primitives and the operations on samples."""
from nas_core.space.architecture import (
    FORMATS,
    apply_fixed_architecture,
    decode_architecture,
    export_architecture,
    load_architecture,
)
from nas_core.space.expr import ValueChoice, ValueExpr, evaluate, is_expr
from nas_core.space.input_choice import ChosenInputs, InputChoice
from nas_core.space.layer_choice import LayerChoice
from nas_core.space.model_space import ModelSpace, search_space
from nas_core.space.mutable import MutableModule
from nas_core.space.repeat import Repeat
from nas_core.space.scope import MutableScope
from nas_core.space.search_space import Choice, Sample, SearchSpace, freeze_tree, sample_key, sample_of

__all__ = [
    "FORMATS",
    "Choice",
    "ChosenInputs",
    "InputChoice",
    "LayerChoice",
    "ModelSpace",
    "MutableModule",
    "MutableScope",
    "Repeat",
    "Sample",
    "SearchSpace",
    "ValueChoice",
    "ValueExpr",
    "apply_fixed_architecture",
    "decode_architecture",
    "evaluate",
    "export_architecture",
    "freeze_tree",
    "is_expr",
    "load_architecture",
    "sample_key",
    "sample_of",
    "search_space",
]
