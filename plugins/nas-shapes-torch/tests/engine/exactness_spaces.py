"""Model spaces and fixed architectures for the exactness tests and the profiler benchmark."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

import nas_core.nn as nnn
from nas_core.nn import Parametrized
from nas_core.space import InputChoice, LayerChoice, ModelSpace, Repeat, ValueChoice
from nas_shapes_mobile import ChannelShuffle, ConvBNAct, InvertedResidual, make_divisible

# -- (b) ProxylessNAS / MobileNetV2-style space -----------------------------------------------
PROXYLESS_STAGES = [(24, 4, 2), (40, 4, 2), (80, 4, 2), (96, 4, 1), (192, 4, 2), (320, 1, 1)]


class ProxylessSpace(ModelSpace):
    """22 MBConv blocks; each: kernel {3,5,7} x expansion {3,6}, and a skip option where the shape allows."""

    def __init__(self, num_classes: int = 1000, stages=PROXYLESS_STAGES, kernels=(3, 5, 7), expansions=(3, 6)):
        super().__init__()
        self.stem = ConvBNAct(3, 32, 3, stride=2)
        self.first = InvertedResidual(32, 16, 1, expand_ratio=1, kernel_size=3)
        blocks = []
        c_in = 16
        for si, (c_out, n, stride) in enumerate(stages):
            for bi in range(n):
                s = stride if bi == 0 else 1
                k = ValueChoice(list(kernels), label=f"s{si}b{bi}_k")
                e = ValueChoice(list(expansions), label=f"s{si}b{bi}_e")
                block = InvertedResidual(c_in, c_out, s, expand_ratio=e, kernel_size=k)
                if s == 1 and c_in == c_out:
                    block = LayerChoice({"mb": block, "skip": nn.Identity()}, label=f"s{si}b{bi}_skip")
                blocks.append(block)
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = ConvBNAct(c_in, 1280, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(1280, num_classes)

    def forward(self, x):
        x = self.blocks(self.first(self.stem(x)))
        x = self.pool(self.head(x)).flatten(1)
        return self.classifier(x)


# -- MobileNetV3-style space (benchmark): depth, kernel, expansion, SE and width choices ----
MBV3_STAGES = [  # (out, max depth, stride, se, activation)
    (24, 3, 2, False, nn.ReLU), (40, 3, 2, True, nn.ReLU), (80, 4, 2, False, nn.Hardswish),
    (112, 3, 1, True, nn.Hardswish), (160, 3, 2, True, nn.Hardswish),
]


class MobileNetV3Space(ModelSpace):
    """Stem width choice, per-stage depth (Repeat), per-block kernel {3,5,7} x expansion {3,4,6}."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        stem = ValueChoice([16, 24], label="stem_width")
        self.stem = ConvBNAct(3, stem, 3, stride=2, activation=nn.Hardswish)
        self.first = InvertedResidual(stem, 16, 1, expand_ratio=1, kernel_size=3, activation=nn.ReLU, residual=False)
        stages = []
        c_in = 16
        for si, (c_out, depth, stride, se, act) in enumerate(MBV3_STAGES):
            def block(i, si=si, c_in=c_in, c_out=c_out, stride=stride, se=se, act=act):
                return InvertedResidual(c_in if i == 0 else c_out, c_out, stride if i == 0 else 1,
                                        expand_ratio=ValueChoice([3, 4, 6], label=f"s{si}b{i}_e"),
                                        kernel_size=ValueChoice([3, 5, 7], label=f"s{si}b{i}_k"),
                                        se_ratio=0.25 if se else None, activation=act)
            stages.append(Repeat(block, (1, depth), label=f"s{si}_depth"))
            c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.head = ConvBNAct(c_in, 960, 1, activation=nn.Hardswish)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(960, 1280), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        x = self.head(self.stages(self.first(self.stem(x))))
        return self.classifier(torch.flatten(self.pool(x), 1))


# -- (c) width choices that change downstream shapes, through many kinds of op -----------------
class WidthZoo(ModelSpace):
    """Widths flow through concat, transposed conv, group norm, shuffles, pads, slices, views."""

    def __init__(self):
        super().__init__()
        w1 = ValueChoice([8, 12, 16], label="w1")
        w2 = ValueChoice([4, 8], label="w2")
        k = ValueChoice([3, 5], label="k")
        self.stem = nnn.Conv2d(3, w1, k, padding=k // 2)
        self.bn = nnn.BatchNorm2d(w1)
        self.a = nnn.Conv2d(w1, w2, 1)
        self.b = nn.Sequential(nn.MaxPool2d(3, 2, padding=1), nnn.Conv2d(w1, w2, 3, padding=1),
                               nn.Upsample(scale_factor=2, mode="nearest"))
        self.gn = Parametrized(nn.GroupNorm, 2, w2 * 2)
        self.shuffle = ChannelShuffle(2)
        self.up = Parametrized(nn.ConvTranspose2d, w2 * 2, 6, 3, stride=2, padding=1, output_padding=1)
        self.pool = LayerChoice([nn.AvgPool2d(2, ceil_mode=True), nn.MaxPool2d(3, 2, ceil_mode=True),
                                 nn.AdaptiveAvgPool2d(5)], label="pool")
        self.side = nnn.Linear(w2, 6)
        self.skip = InputChoice(n_candidates=2, n_chosen=1, label="which")
        self.norm = nn.LayerNorm(54)
        self.fc = nnn.Linear(54, ValueChoice([10, 20], label="out"))

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        y = torch.cat([self.a(x), self.b(x)], dim=1)          # 2*w2 channels
        y = self.shuffle(F.gelu(self.gn(y)))
        n = y.size(0)
        g = y.mean((2, 3)).view(n, -1, 2).sum(-1)              # (N, w2): a view of a choice-dependent shape
        z = self.up(y)                                         # (N, 6, 2H, 2W)
        z = F.pad(z, (1, 1, 1, 1))[:, :, 1:-1, 1:-1]
        z = F.adaptive_avg_pool2d(self.pool(z), 4)
        h1, h2 = z.chunk(2, dim=1)
        z = self.skip([h1 * torch.sigmoid(h2), h1 + h2])
        z = torch.cat([z.reshape(n, -1), self.side(g)], 1)    # 48 + 6
        return self.fc(self.norm(z)).softmax(-1)


# -- (d) small transformer spaces: heads, hidden size, MLP ratio and depth (Repeat) ------------
class AttentionBlock(nn.Module):
    """A pre-norm transformer block written with torch functions (views, matmuls, softmax)."""

    def __init__(self, dim: int, heads: int, mlp: int):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, dim * mlp), nn.Linear(dim * mlp, dim)

    def forward(self, x):
        b, l, d = x.shape
        qkv = self.qkv(self.ln1(x)).view(b, l, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        att = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, l, d)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TinyViT(ModelSpace):
    """Hand-written attention blocks: hidden {16, 32}, heads {2, 4}, MLP ratio {2, 4}, depth 1-3."""

    def __init__(self, in_features: int = 12, classes: int = 5):
        super().__init__()
        hidden = ValueChoice([16, 32], label="hidden")
        heads = ValueChoice([2, 4], label="heads")
        mlp = ValueChoice([2, 4], label="mlp")
        self.embed = nnn.Linear(in_features, hidden)
        self.blocks = Repeat(lambda i: Parametrized(AttentionBlock, hidden, heads, mlp), (1, 3), label="depth")
        self.norm = nnn.LayerNorm(hidden)
        self.head = nnn.Linear(hidden, classes)

    def forward(self, x):
        x = self.blocks(self.embed(x))
        return self.head(self.norm(x).mean(dim=1))


class TorchTransformer(ModelSpace):
    """nn.Embedding + nn.TransformerEncoderLayer (Repeat) + nn.MultiheadAttention pooling."""

    def __init__(self, vocab: int = 50, classes: int = 5):
        super().__init__()
        hidden = ValueChoice([16, 32], label="hidden")
        heads = ValueChoice([2, 4], label="heads")
        ff = ValueChoice([32, 64], label="ff")
        self.embed = Parametrized(nn.Embedding, vocab, hidden)
        self.encoder = Repeat(lambda i: Parametrized(nn.TransformerEncoderLayer, hidden, heads, ff, dropout=0.1,
                                                     batch_first=True), (1, 2), label="depth")
        self.pool = Parametrized(nn.MultiheadAttention, hidden, heads)  # sequence-first, returns weights
        self.head = nnn.Linear(hidden, classes)

    def forward(self, tokens):
        x = self.encoder(self.embed(tokens))          # (N, L, E)
        x = x.transpose(0, 1)                          # (L, N, E)
        pooled, weights = self.pool(x[:1], x, x)       # query: the first token
        return self.head(pooled[0]) + weights.sum()
