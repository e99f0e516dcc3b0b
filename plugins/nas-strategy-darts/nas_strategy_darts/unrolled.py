"""Second-order DARTS: the architecture gradient through one virtual weight step.

With ``w' = w - xi * grad_w L_train(w, alpha)`` (``xi``: the weight optimizer's learning
rate), the architecture gradient of ``L_val(w'(alpha), alpha)`` is (DARTS paper, eq. 7-8)

    grad_alpha L_val(w', alpha) - xi * grad2_{alpha,w} L_train(w, alpha) . grad_w' L_val(w', alpha)

and the Hessian-vector product is the central difference

    (grad_alpha L_train(w+, alpha) - grad_alpha L_train(w-, alpha)) / (2 eps),
    w+- = w +- eps * grad_w' L_val(w', alpha),   eps = 0.01 / ||grad_w' L_val||.

The weights are restored afterwards: only the architecture logits change.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from nas_core.oneshot import Supernet, to_device

__all__ = ["unrolled_arch_grad", "mixer"]


def mixer(supernet: Supernet, gumbel: bool, tau: float) -> Callable[[], dict[str, torch.Tensor]]:
    """The mixing weights as a function of the logits; Gumbel noise is drawn once and kept for every pass."""
    if not gumbel:
        return supernet.arch.probs
    noise = {l: -torch.log(-torch.log(torch.rand_like(supernet.arch[l]).clamp_min(1e-20)))
             for l in supernet.arch.labels}
    return lambda: {l: F.softmax((supernet.arch[l] + noise[l]) / tau, dim=-1) for l in supernet.arch.labels}


def _grads(loss: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    gs = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for g, p in zip(gs, params)]


def unrolled_arch_grad(supernet: Supernet, loss_fn: Callable[[Any, Any], torch.Tensor], train_batch: Any,
                       val_batch: Any, xi: float, mix: Callable[[], dict[str, torch.Tensor]],
                       penalty: Callable[[torch.Tensor, Any], torch.Tensor] | None = None,
                       device: torch.device | None = None) -> tuple[list[torch.Tensor], float]:
    """``(gradient per architecture parameter, validation loss at w')``; the weights are left as they were."""
    device = device or torch.device("cpu")
    xt, yt = to_device(train_batch, device)
    xv, yv = to_device(val_batch, device)
    weights = supernet.weight_parameters()
    arch = supernet.arch_parameters()
    backup = [w.detach().clone() for w in weights]

    def train_loss() -> torch.Tensor:
        supernet.set_weights(mix())
        return loss_fn(supernet(xt), yt)

    try:
        # the virtual step w' = w - xi * grad_w L_train(w, alpha)
        supernet.set_weights({l: m.detach() for l, m in mix().items()})
        g_train = _grads(loss_fn(supernet(xt), yt), weights)
        with torch.no_grad():
            for w, g in zip(weights, g_train):
                w.sub_(xi * g)
        # L_val at w': its gradients to alpha (direct term) and to w'
        supernet.set_weights(mix())
        val_loss = loss_fn(supernet(xv), yv)
        if penalty is not None:
            val_loss = penalty(val_loss, supernet.arch.probs())
        grads = _grads(val_loss, arch + weights)
        d_alpha, d_w = grads[:len(arch)], grads[len(arch):]
        norm = torch.sqrt(sum((g.detach() ** 2).sum() for g in d_w))
        if float(norm) == 0.0:
            return [g.detach() for g in d_alpha], float(val_loss.detach())
        eps = 0.01 / norm
        sides = []
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for w, b, g in zip(weights, backup, d_w):
                    w.copy_(b + sign * eps * g)
            sides.append(_grads(train_loss(), arch))
        hessian_vector = [(p - m) / (2 * eps) for p, m in zip(*sides)]
        return [(d - xi * h).detach() for d, h in zip(d_alpha, hessian_vector)], float(val_loss.detach())
    finally:
        with torch.no_grad():
            for w, b in zip(weights, backup):
                w.copy_(b)
