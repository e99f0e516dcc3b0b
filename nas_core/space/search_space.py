"""SearchSpace: the decisions of a model, and what can be done with a sample of them."""
from __future__ import annotations

import contextlib
import copy
import difflib
import json
import math
import random as _random
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from torch import nn

from nas_core.errors import InvalidSampleError, SpaceDefinitionError
from nas_core.space.expr import ValueChoice, ValueExpr, leaf_choices
from nas_core.space.mutable import MutableModule

__all__ = ["SearchSpace", "Choice", "Sample", "sample_key", "sample_of"]

Sample = dict  # a flat ``dict[label, value]``


def sample_key(sample: Mapping[str, object]) -> str:
    """A canonical, hashable string for a sample (sorted JSON)."""
    return json.dumps(sample, sort_keys=True, default=str)


@dataclass
class Choice:
    """One decision of a space: its label, domain, default and where it is used."""

    label: str
    kind: str  # "layer", "input", "value" or "depth"
    domain: list[Any]
    default: Any
    paths: list[str] = field(default_factory=list)
    names: list[str] | None = None  # LayerChoice names / InputChoice choose_from

    def __len__(self) -> int:
        return len(self.domain)

    def index(self, value: Any) -> int:
        """Position of ``value`` in the domain (raises ValueError if absent)."""
        for i, v in enumerate(self.domain):
            if _same(v, value):
                return i
        raise ValueError(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    return a == b


class SearchSpace:
    """The decisions found in ``model`` (any ``nn.Module`` holding mutables).

    Finding the decisions assigns generated labels to unlabelled ones: the module path for
    a LayerChoice or InputChoice (``"blocks.2.op"``), and ``"<path>.<argument>"`` for a
    ValueChoice (``"stem.out_channels"``). Labels are stable for the same model code.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self._objects: dict[str, list[Any]] = {}
        self.choices: dict[str, Choice] = {}
        self._discover()

    # -- discovery ---------------------------------------------------------------------
    def _discover(self) -> None:
        found: list[tuple[Any, str, str]] = []  # (decision object, generated label, path)
        for path, module in self.model.named_modules():
            if not isinstance(module, MutableModule):
                continue
            for d in module.module_decisions():
                found.append((d, path or type(module).__name__, path))
            for arg, value in module.value_choices().items():
                for leaf in leaf_choices(value):
                    found.append((leaf, f"{path}.{arg}" if path else arg, path))
        explicit = {obj.label for obj, _, _ in found if obj.label is not None}
        seen: set[int] = set()
        for obj, generated, path in found:
            if id(obj) in seen:
                if path not in self.choices[obj.label].paths:
                    self.choices[obj.label].paths.append(path)
                continue
            seen.add(id(obj))
            if obj.label is None:
                label, n = generated, 2
                while label in explicit:
                    label, n = f"{generated}#{n}", n + 1
                obj.label = label
                explicit.add(label)
            self._add(obj, path)

    def _add(self, obj: Any, path: str) -> None:
        if isinstance(obj, ValueChoice):
            kind, domain, names = "value", list(obj.candidates), None
        else:
            kind = "layer" if hasattr(obj, "candidates") else "input"
            domain = obj.domain
            names = getattr(obj, "names", None) if kind == "layer" else getattr(obj, "choose_from", None)
        label = obj.label
        if label in self.choices:
            existing = self.choices[label]
            if existing.domain != domain or existing.kind != kind:
                raise SpaceDefinitionError(
                    f"label {label!r} is shared by a {existing.kind} choice at {existing.paths} with domain "
                    f"{existing.domain} and a {kind} choice at {path!r} with domain {domain}. Choices that "
                    "share a label are one decision and need the same candidates; rename one of them."
                )
            self._objects[label].append(obj)
            if path not in existing.paths:
                existing.paths.append(path)
            obj.current = existing.default
            return
        self.choices[label] = Choice(label, kind, domain, domain[0] if kind != "input" else obj.default, [path], names)
        self._objects[label] = [obj]

    # -- listing -----------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        return list(self.choices)

    def __len__(self) -> int:
        return len(self.choices)

    def __iter__(self) -> Iterator[Choice]:
        return iter(self.choices.values())

    def count(self) -> int:
        """Number of distinct samples (the product of the domain sizes)."""
        return math.prod(len(c.domain) for c in self.choices.values())

    def default(self) -> dict[str, Any]:
        """The sample of first candidates (what the unfrozen model runs by default)."""
        return {label: copy.deepcopy(c.default) for label, c in self.choices.items()}

    def random(self, seed: int | _random.Random | None = None) -> dict[str, Any]:
        """A uniformly random sample; the same seed gives the same sample."""
        rng = seed if isinstance(seed, _random.Random) else _random.Random(seed)
        return {label: copy.deepcopy(rng.choice(c.domain)) for label, c in self.choices.items()}

    def enumerate(self) -> Iterator[dict[str, Any]]:
        """Every sample, in a fixed order (beware of large spaces)."""
        import itertools

        labels = self.labels
        for combo in itertools.product(*(self.choices[l].domain for l in labels)):
            yield dict(zip(labels, copy.deepcopy(combo)))

    # -- validation --------------------------------------------------------------------
    def validate(self, sample: Mapping[str, object]) -> dict[str, Any]:
        """Check ``sample`` and return it in canonical form.

        Raises :class:`InvalidSampleError` naming the label and allowed values on an
        unknown label, a missing label, or a value outside the domain.
        """
        if not isinstance(sample, Mapping):
            raise InvalidSampleError(
                f"a sample must be a dict of label to value, got {type(sample).__name__}: {sample!r}."
            )
        unknown = [k for k in sample if k not in self.choices]
        if unknown:
            k = unknown[0]
            close = difflib.get_close_matches(str(k), self.labels, n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise InvalidSampleError(
                f"unknown label {k!r} in sample.{hint} The space's labels are: {', '.join(map(repr, self.labels))}."
            )
        out: dict[str, Any] = {}
        for label, choice in self.choices.items():
            if label not in sample:
                raise InvalidSampleError(
                    f"sample is missing label {label!r}; allowed values: {_fmt_domain(choice)}. "
                    "Give a value for every label (space.default() lists them all)."
                )
            value = sample[label]
            if isinstance(value, tuple):
                value = list(value)
            try:
                idx = choice.index(value)
            except ValueError:
                raise InvalidSampleError(
                    f"value {value!r} for label {label!r} is not allowed; allowed values: {_fmt_domain(choice)}."
                ) from None
            out[label] = copy.deepcopy(choice.domain[idx])
        return out

    # -- equivalent samples ------------------------------------------------------------
    def inactive(self, sample: Mapping[str, object]) -> set[str]:
        """Labels that ``sample`` leaves unused: inside blocks past a Repeat's depth, inside
        LayerChoice candidates not chosen, inside Parametrized variants that do not run."""
        from nas_core.space.canonical import active_labels

        return set(self.choices) - active_labels(self.model, self.validate(sample))

    @property
    def conditional(self) -> bool:
        """True when two different samples may build the same network (see :meth:`canonical`)."""
        if not hasattr(self, "_conditional"):
            from nas_core.space.canonical import has_conditional_labels

            self._conditional = has_conditional_labels(self.model)
        return self._conditional

    def canonical(self, sample: Mapping[str, object]) -> dict[str, Any]:
        """The one representative of ``sample``'s architecture: validated, every inactive label
        at its default, then the model's own ``canonical_sample(sample)`` if it defines one.
        Equivalent samples have the same canonical sample (and :meth:`canonical_key`)."""
        if not self.conditional:
            return self.validate(sample)
        from nas_core.space.canonical import canonical_sample

        return canonical_sample(self, sample)

    def canonical_key(self, sample: Mapping[str, object]) -> str:
        """:func:`sample_key` of :meth:`canonical`: equal for samples that build the same network."""
        return sample_key(self.canonical(sample))

    # -- running -----------------------------------------------------------------------
    def set_current(self, sample: Mapping[str, object]) -> None:
        """Make the unfrozen model run ``sample`` (validated first)."""
        sample = self.validate(sample)
        for label, objs in self._objects.items():
            for obj in objs:
                obj.current = copy.deepcopy(sample[label])

    def current(self) -> dict[str, Any]:
        """The sample the unfrozen model runs now."""
        return {label: copy.deepcopy(objs[0].current) for label, objs in self._objects.items()}

    @contextlib.contextmanager
    def activate(self, sample: Mapping[str, object]) -> Iterator[dict[str, Any]]:
        """Context manager: run ``sample`` inside the block, restore the previous one after."""
        before = self.current()
        self.set_current(sample)
        try:
            yield self.current()
        finally:
            self.set_current(before)

    # -- freezing ----------------------------------------------------------------------
    def freeze(self, sample: Mapping[str, object], example_input: Any = None) -> nn.Module:
        """A plain ``nn.Module`` for ``sample``: a copy with no NAS wrappers left.

        With ``example_input`` (or an input recorded from an earlier forward of a
        :class:`~nas_core.space.ModelSpace`), the frozen model is run once to check that
        its shapes fit; a misfit raises :class:`~nas_core.errors.ArchitectureError` naming
        the sample and the layer.
        """
        sample = self.validate(sample)
        # modules the sample drops are not copied (they are discarded by freeze_tree anyway)
        memo: dict[int, Any] = {id(m): m for m in _dropped_modules(self.model, sample)}
        space = self.model.__dict__.get("_nas_space")
        if space is not None:
            memo[id(space)] = None
        with self.activate(sample):
            frozen = copy.deepcopy(self.model, memo)
        frozen = freeze_tree(frozen, sample)
        if hasattr(frozen, "_nas_example_input"):
            example_input = example_input if example_input is not None else frozen._nas_example_input
            del frozen._nas_example_input
        _strip_space_state(frozen)
        frozen.__dict__[FROZEN_SAMPLE_ATTR] = dict(sample)  # read back with sample_of(frozen)
        if example_input is not None:
            from nas_core.space.diagnose import check_runs

            check_runs(frozen, example_input, sample)
        return frozen

    def run(self, sample: Mapping[str, object], *inputs: Any) -> Any:
        """Run the unfrozen model on ``inputs`` with ``sample``; a failure names the sample and layer."""
        from nas_core.errors import ArchitectureError
        from nas_core.space.diagnose import locate_failure

        with self.activate(sample) as active:
            try:
                return nn.Module.__call__(self.model, *inputs)
            except ArchitectureError:
                raise
            except Exception as err:
                failure = locate_failure(self.model, inputs if len(inputs) > 1 else inputs[0])
                where = f" in layer {failure[0]!r} ({type(failure[1]).__name__}) on input {failure[2]}" if failure else ""
                raise ArchitectureError(
                    f"sample {active} failed to run{where}: {err}. Change the candidates so the shapes fit, "
                    "or exclude this sample."
                ) from err

    def describe(self) -> str:
        """A table of labels, kinds and domains."""
        lines = [f"{len(self.choices)} choices, {self.count()} samples"]
        for c in self.choices.values():
            lines.append(f"  {c.label:<30} {c.kind:<6} {_fmt_domain(c)}")
        return "\n".join(lines)


def _dropped_modules(model: nn.Module, sample: Mapping[str, Any]) -> list[nn.Module]:
    """Modules that freezing ``sample`` discards: unchosen candidates, blocks past the depth, other variants."""
    dropped: list[nn.Module] = []
    kept: set[int] = set()

    def walk(m: nn.Module) -> None:
        kept.add(id(m))
        running = m.active_children(sample) if isinstance(m, MutableModule) else None
        if running is None:
            running = list(m.children())
        else:  # every child not running is dropped (looking inside ModuleLists and ModuleDicts)
            ids = {id(r) for r in running}
            containers = list(m.children())
            while containers:
                c = containers.pop()
                if id(c) in ids:
                    continue
                if isinstance(c, (nn.ModuleList, nn.ModuleDict)):
                    containers.extend(c.children())
                else:
                    dropped.append(c)
        for child in running:
            walk(child)

    walk(model)
    # a module also used by a kept part (shared weights) must be copied like the rest
    return [d for d in dropped if not any(id(x) in kept for x in d.modules())]


FROZEN_SAMPLE_ATTR = "_nas_frozen_sample"


def sample_of(model: nn.Module) -> dict[str, Any] | None:
    """The sample ``model`` was frozen from by :meth:`SearchSpace.freeze` (None for other modules)."""
    sample = model.__dict__.get(FROZEN_SAMPLE_ATTR)
    return dict(sample) if sample is not None else None


def freeze_tree(module: nn.Module, sample: Mapping[str, object]) -> nn.Module:
    """Replace every mutable in ``module`` (in place) by its frozen form; return the root."""
    while isinstance(module, MutableModule):
        module = module.freeze(sample)
    for name, child in list(module._modules.items()):
        if child is None:
            continue
        new = freeze_tree(child, sample)
        if new is not child:
            module._modules[name] = new
    return module


def _strip_space_state(model: nn.Module) -> None:
    for m in model.modules():
        for k in [k for k, v in vars(m).items() if k.startswith("_nas_space")]:
            delattr(m, k)
        if hasattr(m, "_nas_example_input"):
            del m._nas_example_input
        for hid, fn in list(m._forward_pre_hooks.items()):
            if getattr(fn, "_nas_hook", False):
                del m._forward_pre_hooks[hid]
        stray = [k for k, v in vars(m).items() if isinstance(v, ValueExpr)]
        for k in stray:
            raise SpaceDefinitionError(
                f"module {type(m).__name__} keeps a search-space decision in attribute {k!r} after freezing. "
                "Pass decisions to nas_core.nn layers, Repeat or LayerChoice instead of storing them."
            )


def _fmt_domain(choice: Choice, limit: int = 12) -> str:
    dom = choice.domain
    shown = ", ".join(repr(v) for v in dom[:limit])
    more = f", ... ({len(dom)} in all)" if len(dom) > limit else ""
    extra = ""
    if choice.kind == "layer" and choice.names is None:
        extra = " (candidate indices)"
    if choice.kind == "input":
        extra = " (sorted lists of chosen input indices)"
    return f"[{shown}{more}]{extra}"
