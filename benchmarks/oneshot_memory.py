"""Peak activation memory of one supernet training step: ProxylessNAS vs the largest single path vs DARTS.

Method (CPU, no CUDA allocator to ask): the memory a training step needs beyond the
weights is what autograd keeps for the backward pass. Every tensor saved for backward
passes through ``torch.autograd.graph.saved_tensors_hooks``; we sum the bytes of the
distinct storages saved during the forward pass (a storage saved twice counts once).
This is the activation memory held at the peak (the end of the forward pass); weights,
gradients and optimizer state are the same for every method and are left out.

Space: 6 layers, each a LayerChoice of ProxylessNAS' 6 MBConv candidates (expansion 3 or 6,
depthwise kernel 3, 5 or 7), 32 channels, input 16x3x32x32.

Run: ``python benchmarks/oneshot_memory.py``.
"""
from __future__ import annotations

import torch
from torch import nn

from nas_core import LayerChoice, ModelSpace
from nas_core.oneshot import Supernet
from nas_strategy_proxyless import binary_gates

C, LAYERS, BATCH, SIZE = 32, 6, 16, 32


def mbconv(c: int, e: int, k: int) -> nn.Module:
    """ProxylessNAS' inverted-residual block: 1x1 expand by ``e``, depthwise ``k`` x ``k``, 1x1 project."""
    return nn.Sequential(nn.Conv2d(c, c * e, 1, bias=False), nn.BatchNorm2d(c * e), nn.ReLU(),
                         nn.Conv2d(c * e, c * e, k, padding=k // 2, groups=c * e, bias=False), nn.BatchNorm2d(c * e),
                         nn.ReLU(),
                         nn.Conv2d(c * e, c, 1, bias=False), nn.BatchNorm2d(c))


class BenchSpace(ModelSpace):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, C, 3, padding=1)
        self.layers = nn.ModuleList(
            LayerChoice({"mb3_k3": mbconv(C, 3, 3), "mb3_k5": mbconv(C, 3, 5), "mb3_k7": mbconv(C, 3, 7),
                         "mb6_k3": mbconv(C, 6, 3), "mb6_k5": mbconv(C, 6, 5), "mb6_k7": mbconv(C, 6, 7)},
                        label=f"layer{i}") for i in range(LAYERS))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(C, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


def saved_bytes(step) -> int:
    """Bytes of distinct storages autograd saves while ``step()`` runs its forward pass."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        seen[st.data_ptr()] = max(seen.get(st.data_ptr(), 0), st.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = step()
    loss.backward()
    return sum(seen.values())


def main() -> None:
    torch.manual_seed(0)
    space = BenchSpace()
    x = torch.randn(BATCH, 3, SIZE, SIZE)
    y = torch.randint(0, 10, (BATCH,))
    names = space.space.choices["layer0"].domain
    ce = nn.functional.cross_entropy

    # the largest single path (the same candidate in every layer; the layers are identical)
    single = {}
    for name in names:
        frozen = space.freeze({f"layer{i}": name for i in range(LAYERS)}).train()
        single[name] = saved_bytes(lambda: ce(frozen(x), y))
    largest = max(single, key=single.get)
    second = sorted(single, key=single.get)[-2]
    base = single[largest]

    sn = Supernet(space).train()
    labels = sn.space.labels
    # ProxylessNAS weight step: one sampled path (worst case: the largest)
    sn.set_sample({l: largest for l in labels})
    prox_weight = saved_bytes(lambda: ce(sn(x), y))
    # ProxylessNAS architecture step: binary gates, active = largest, second sampled path = next largest (no grad)
    ia, ib = names.index(largest), names.index(second)

    def arch_step() -> torch.Tensor:
        gates = {l: binary_gates(sn.arch[l], ia, sorted([ia, ib])) for l in labels}
        sn.set_weights(gates, {l: [ia] for l in labels}, {l: [ib] for l in labels})
        return ce(sn(x), y)

    prox_arch = saved_bytes(arch_step)

    def darts_step() -> torch.Tensor:
        sn.set_weights(sn.arch.probs())
        return ce(sn(x), y)

    darts = saved_bytes(darts_step)

    mib = 1 / 2**20
    print(f"space: {LAYERS} layers x {len(names)} candidates {names}, {C} channels, input {BATCH}x3x{SIZE}x{SIZE}")
    print("activation memory saved for backward (distinct storages), one training step:")
    for name in names:
        print(f"  single path, all {name:<6}: {single[name] * mib:8.2f} MiB")
    print(f"  largest single path ({largest})  : {base * mib:8.2f} MiB  (1.00x)")
    print(f"  ProxylessNAS weight step     : {prox_weight * mib:8.2f} MiB  ({prox_weight / base:.2f}x)")
    print(f"  ProxylessNAS arch step       : {prox_arch * mib:8.2f} MiB  ({prox_arch / base:.2f}x)")
    print(f"  DARTS step (all candidates)  : {darts * mib:8.2f} MiB  ({darts / base:.2f}x)")
    worst = max(prox_weight, prox_arch) / base
    print(f"ProxylessNAS peak / largest single path: {worst:.2f}x ({'within' if worst <= 1.5 else 'ABOVE'} 1.5x)")


if __name__ == "__main__":
    main()
