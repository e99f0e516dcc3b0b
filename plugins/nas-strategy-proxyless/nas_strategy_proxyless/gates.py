"""Binary gates and the ProxylessNAS gradient estimate for the architecture logits.

A gate vector ``g`` is one-hot on the active path. Its forward value selects a single path;
its backward is the paper's estimate (Cai et al., 2019, eq. 4)::

    dL/dalpha_i = sum_j dL/dg_j * p_j * (delta_ij - p_i)

restricted, in two-path mode, to the two sampled candidates (``p`` is then the softmax of
their logits only), so only their outputs are needed.
"""
from __future__ import annotations

import torch

__all__ = ["binary_gates", "sample_paths"]


class _BinaryGate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, alpha: torch.Tensor, active: int, paths: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        g = torch.zeros_like(alpha)
        g[active] = 1.0
        ctx.save_for_backward(alpha, paths)
        return g

    @staticmethod
    def backward(ctx, grad_g: torch.Tensor):  # type: ignore[override]
        alpha, paths = ctx.saved_tensors
        p = torch.softmax(alpha[paths], dim=-1)
        gg = grad_g[paths]
        grad = torch.zeros_like(alpha)
        grad[paths] = p * gg - p * (p * gg).sum()
        return grad, None, None


def binary_gates(alpha: torch.Tensor, active: int, paths: list[int]) -> torch.Tensor:
    """One-hot gates on ``active``, with the binary-gate gradient over ``paths`` reaching ``alpha``."""
    return _BinaryGate.apply(alpha, int(active), torch.tensor(paths, dtype=torch.long, device=alpha.device))


def sample_paths(alpha: torch.Tensor, generator: torch.Generator, two_path: bool = True) -> tuple[int, list[int]]:
    """``(active, paths)``: the active path drawn from ``softmax(alpha)``; in two-path mode a second,
    different path is drawn too (without replacement), otherwise every path takes part."""
    probs = torch.softmax(alpha.detach().float().cpu(), dim=-1)
    n = probs.numel()
    if n == 1:
        return 0, [0]
    if two_path:
        pair = torch.multinomial(probs, 2, replacement=False, generator=generator).tolist()
        return pair[0], sorted(pair)
    active = int(torch.multinomial(probs, 1, generator=generator))
    return active, list(range(n))
