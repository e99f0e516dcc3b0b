"""nas-shapes-torch: shape and cost formulas for torch.nn modules and torch functions.

Modules with a formula are not opened by shape inference; every other module is opened
and the torch functions it calls are costed through the function formulas below, so
containers, ``TransformerEncoderLayer`` and user blocks built from covered pieces need
no formula of their own. Cost kinds: ``macs`` (exactly FlopCounterMode's count / 2 for
conv, transposed conv, linear and the matrix products, and attention), ``bias``,
``norm``, ``activation``, ``elementwise``.
"""
from __future__ import annotations

from torch import nn

import nas_core
from nas_shapes_torch import attention, conv, creation, elementwise, linear, norm, pooling, reduce, reshape, resize

__all__ = ["register_shape_formulas"]


@nas_core.hookimpl
def register_shape_formulas(register):
    # modules
    register(conv.TARGETS, conv.conv)
    register(conv.TRANSPOSED_TARGETS, conv.conv_transpose)
    register(linear.TARGETS, linear.linear)
    register([nn.Embedding], linear.embedding_module)
    register([nn.EmbeddingBag], linear.embedding_bag_module)
    register(attention.MHA_MODULES, attention.multihead_attention)
    register(elementwise.ACTIVATION_MODULES, elementwise.activation)
    register(elementwise.FREE_MODULES + [nn.ChannelShuffle], elementwise.free)
    register([nn.GLU], elementwise.glu_module)
    register(pooling.POOL_MODULES, pooling.pool_module)
    register(pooling.ADAPTIVE_MODULES, pooling.adaptive_module)
    register(norm.BN_MODULES, norm.batch_norm)
    register(norm.IN_MODULES, norm.instance_norm)
    register(norm.GN_MODULES, norm.group_norm)
    register(norm.LN_MODULES, norm.layer_norm)
    register(norm.LRN_MODULES, norm.local_response_norm)
    register([nn.Flatten], reshape.flatten_module)
    register([nn.Unflatten], reshape.unflatten_module)
    register(resize.UPSAMPLE_MODULES, resize.upsample)
    register([nn.PixelShuffle], resize.pixel_shuffle_module)
    register([nn.PixelUnshuffle], resize.pixel_unshuffle_module)
    register(resize.PAD_MODULES, resize.pad_module)
    # functions (by name, so torch.relu, F.relu and Tensor.relu share one formula)
    for name, f in conv.FUNCTIONS.items():
        register([name], f)
    register(["linear"], linear.linear_function)
    register(["embedding"], linear.embedding_function)
    register(linear.MATMUL_FUNCTIONS, linear.matmul)
    register(linear.ADDMM_FUNCTIONS, linear.addmm)
    register(attention.SDPA_FUNCTIONS, attention.scaled_dot_product_attention)
    register(elementwise.ACTIVATION_FUNCTIONS, elementwise.activation)
    register(elementwise.FREE_FUNCTIONS, elementwise.free)
    register(elementwise.UNARY_FUNCTIONS, elementwise.unary)
    register(elementwise.BINARY_FUNCTIONS, elementwise.binary)
    register(elementwise.NARY_FUNCTIONS, elementwise.nary)
    register(["glu"], elementwise.glu_function)
    register(elementwise.LIKE_OTHER_FUNCTIONS, elementwise.like_other)
    register(["channel_shuffle", "native_channel_shuffle"], resize.shuffle)
    register(norm.NORM_FUNCTIONS, norm.norm_function)
    for nd, names in pooling.POOL_FUNCTIONS.items():
        register(names, pooling.func_pools[nd])
    for nd, names in pooling.ADAPTIVE_FUNCTIONS.items():
        register(names, pooling.func_adaptive[nd])
    register(["flatten"], reshape.flatten_func)
    for name, f in reshape.FUNCTIONS.items():
        register([name], f)
    register(reduce.REDUCE_FUNCTIONS, reduce.reduce)
    register(reduce.WITH_INDICES_FUNCTIONS, reduce.reduce_with_indices)
    register(reduce.NORM_REDUCE_FUNCTIONS, reduce.norm)
    register(resize.INTERPOLATE_FUNCTIONS, resize.interpolate)
    register(["pad"], resize.pad_function)
    register(["pixel_shuffle"], resize.pixel_shuffle_function)
    register(["pixel_unshuffle"], resize.pixel_unshuffle_function)
    for name, f in creation.FUNCTIONS.items():
        register([name], f)
