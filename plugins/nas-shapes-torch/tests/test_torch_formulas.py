"""Each formula of the pack on a choice-dependent input: shape and MACs agree with torch."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import nas_core.nn as nnn
from nas_core import search_space
from nas_core.shapes import evaluate_sym, trace
from nas_core.space import ModelSpace, ValueChoice
from nas_profiler_flops import FlopsProfiler, reference_flops

CASES = {
    "pad": lambda x: F.pad(x, (1, 2, 3, 0)),
    "zeropad": nn.ZeroPad2d((1, 0, 2, 1)),
    "reflectpad": nn.ReflectionPad2d(1),
    "getitem": lambda x: x[:, 1:, ::2, None, -1],
    "getitem_ellipsis": lambda x: x[..., 1:3],
    "getitem_index_tensor": lambda x: x[:, torch.tensor([0, 2, 1])],
    "permute": lambda x: x.permute(0, 2, 3, 1),
    "transpose": lambda x: x.transpose(1, -1).contiguous(),
    "movedim": lambda x: torch.movedim(x, 1, 3),
    "unsqueeze_squeeze": lambda x: x.unsqueeze(2).squeeze(2).squeeze(0),
    "expand": lambda x: x[:, :1].expand(-1, 3, -1, -1),
    "repeat_tile": lambda x: torch.cat([x.repeat(1, 2, 1, 1), x.tile((2, 1, 1))], 1),
    "cat_stack": lambda x: torch.stack([torch.cat([x, x], dim=1), torch.cat((x, x), 1)], dim=2),
    "chunk": lambda x: torch.cat(x.chunk(2, dim=1)[::-1], 1),
    "split_sections": lambda x: x.split([1, 2, 3], dim=2)[1],
    "unbind": lambda x: torch.stack(x.unbind(2), -1),
    "narrow_select": lambda x: x.narrow(2, 1, 3).select(3, 0),
    "index_select": lambda x: x.index_select(2, torch.tensor([0, 5])),
    "flatten_view": lambda x: x.flatten(1).view(x.size(0), -1, 2).reshape(-1),
    "unflatten": lambda x: x.flatten(1).unflatten(1, (x.shape[1], -1)),
    "interpolate_scale": lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
    "interpolate_size": lambda x: F.interpolate(x, size=(3, 4)),
    "upsample": nn.Upsample(scale_factor=2),
    "pixel_shuffle": lambda x: F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2),
    "conv_transpose": nnn.Parametrized(nn.ConvTranspose2d, ValueChoice([4, 8], label="w"), 3, 3, stride=2,
                                       padding=1, output_padding=1, groups=1),
    "conv_transpose1d": lambda x: F.conv_transpose1d(x.flatten(2), torch.randn(x.shape[1], 2, 3), stride=2),
    "conv1d_function": lambda x: F.conv1d(x.flatten(2), torch.randn(5, x.shape[1], 3), torch.randn(5), padding=1),
    "conv2d_function_groups": lambda x: F.conv2d(x, torch.randn(x.shape[1], 2, 3, 3), groups=x.shape[1] // 2),
    "group_norm": nnn.Parametrized(nn.GroupNorm, 2, ValueChoice([4, 8], label="w")),
    "instance_norm": nnn.Parametrized(nn.InstanceNorm2d, ValueChoice([4, 8], label="w"), affine=True),
    "layer_norm_function": lambda x: F.layer_norm(x, x.shape[-2:]),
    "batch_norm_function": lambda x: F.batch_norm(x, None, None, training=True),
    "reductions": lambda x: x.mean((2, 3)) + x.sum(-1).amax(-1) + x.max(dim=2).values.std(-1),
    "keepdim": lambda x: x.mean(dim=(2, 3), keepdim=True) * x,
    "softmax_glu": lambda x: F.glu(x.softmax(1), dim=1),
    "matmul": lambda x: x @ x.transpose(-1, -2),
    "matmul_vector": lambda x: torch.matmul(x, torch.ones(x.shape[-1])),
    "bmm_baddbmm": lambda x: torch.baddbmm(torch.zeros(1), x.flatten(0, 1), x.flatten(0, 1).mT if False else
                                           x.flatten(0, 1).transpose(1, 2)),
    "linear_function": lambda x: F.linear(x, torch.randn(7, x.shape[-1]), torch.randn(7)),
    "addmm": lambda x: torch.addmm(torch.zeros(3), x.flatten(1), torch.randn(x.flatten(1).shape[1], 3)),
    "sdpa": lambda x: F.scaled_dot_product_attention(x, x, x),
    "creation": lambda x: x + torch.zeros_like(x) + torch.ones(x.shape[-1]) + x.new_zeros(x.shape[1], 1, 1),
    "arange_where": lambda x: torch.where(x > 0, x, torch.arange(x.shape[-1]).float()),
    "max_pool_ceil_indices": lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True, return_indices=True)[0],
    "avg_pool_ceil": nn.AvgPool2d(3, 2, padding=1, ceil_mode=True),
    "pool1d_3d": lambda x: F.avg_pool1d(x.flatten(2), 2).sum() + F.max_pool3d(x.unsqueeze(1), 2).sum(),
    "adaptive_max_indices": nn.AdaptiveMaxPool2d((2, 3), return_indices=True),
    "embedding": lambda x: F.embedding(torch.zeros(x.shape[1], dtype=torch.long), torch.randn(3, 5)),
    "activations": lambda x: F.hardswish(F.silu(F.relu6(F.leaky_relu(x)))) * torch.sigmoid(x).clamp(0.1, 0.9),
}


class Case(ModelSpace):
    def __init__(self, op):
        super().__init__()
        self.conv = nnn.Conv2d(3, ValueChoice([4, 8], label="w"), 1)
        self.op = op if isinstance(op, nn.Module) else None
        self.fn = None if isinstance(op, nn.Module) else op

    def forward(self, x):
        x = self.conv(x)
        out = self.op(x) if self.op is not None else self.fn(x)
        return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", sorted(CASES))
def test_formula_shape_and_macs(name):
    torch.manual_seed(0)
    model = Case(CASES[name])
    x = torch.randn(2, 3, 6, 6)
    tr = trace(model, x)
    profiler = FlopsProfiler(model, x, unit="flops")
    space = search_space(model)
    for sample in space.enumerate():
        frozen = space.freeze(sample).eval()
        torch.manual_seed(0)
        out = frozen(x)
        assert tuple(evaluate_sym(tr.output.shape, sample)) == tuple(out.shape), sample
        torch.manual_seed(0)
        assert profiler.profile(sample) == reference_flops(frozen, x), sample
