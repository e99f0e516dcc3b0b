"""Shape inference: one dry run gives every op's symbolic shapes and costs.

Formula packs (``nas-shapes-torch``, ``nas-shapes-mobile``) register formulas through the
``register_shape_formulas`` hook; users add their own with :func:`register_formula` or
declare whole modules leaves with :func:`leaf`.
"""
from nas_core.interfaces.shape_formula import COST_KINDS, ShapeFormula
from nas_core.shapes.cost_profiler import CostModelProfiler
from nas_core.shapes.costmodel import CostModel, Term
from nas_core.shapes.formulas import (
    Formula,
    FormulaTable,
    formula_table,
    leaf,
    register_formula,
    same_shape,
    unregister_formula,
)
from nas_core.shapes.merges import CHOICE_MODULES, Merge, choice_merges
from nas_core.shapes.sym import Sym, all_of, any_of, case, evaluate_sym, is_sym, labels_of, numel, sym, sym_apply
from nas_core.shapes.terms import check_terms, op_cost_terms, param_terms, structural_conditions
from nas_core.shapes.trace import ModuleCall, OpRecord, ShapeTrace, SymTensor, TracedInt, hp, require, trace, validity_error

__all__ = [
    "CHOICE_MODULES",
    "Merge",
    "choice_merges",
    "COST_KINDS",
    "CostModel",
    "CostModelProfiler",
    "Formula",
    "FormulaTable",
    "ModuleCall",
    "OpRecord",
    "ShapeFormula",
    "ShapeTrace",
    "Sym",
    "SymTensor",
    "Term",
    "TracedInt",
    "all_of",
    "any_of",
    "case",
    "check_terms",
    "evaluate_sym",
    "formula_table",
    "hp",
    "is_sym",
    "labels_of",
    "leaf",
    "numel",
    "op_cost_terms",
    "param_terms",
    "register_formula",
    "require",
    "same_shape",
    "structural_conditions",
    "sym",
    "sym_apply",
    "trace",
    "unregister_formula",
    "validity_error",
]
