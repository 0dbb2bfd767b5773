#!/usr/bin/env python3
"""PyTorch side of scripts/bench/transformer_speed.sh: the same model, data and optimizer as
dev.slingshot.examples.TransformerBench, timed the same way.

Model: token embedding + learned position embedding, 2 post-LayerNorm decoder layers (d=128,
4 heads, causal attention with one bias-free QKV projection, ReLU FFN 4d, bias-free), bias-free
classifier on the last position. Data: modular division p=97 (b != 0), tokens [a, op, b, =],
50/50 split, minibatches of 512 from per-epoch permutations. Adam lr 1e-3 (10-step linear
warm-up), betas (0.9, 0.98), eps 1e-8, no weight decay; cross-entropy. Each step reads the loss
and the classifier weight norm back (as the DJL loop does).

usage: transformer_speed.py THREADS [warmup=50] [blocks=5] [steps_per_block=40] [batch=512] [last|full]
"""
import math
import random
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, d, heads, length):
        super().__init__()
        self.d, self.h = d, heads
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.out = nn.Linear(d, d, bias=False)
        self.register_buffer(
            "mask", torch.full((length, length), float("-inf")).triu(1))

    def forward(self, x, last_only):
        b, s, _ = x.shape
        dh = self.d // self.h
        q, k, v = self.qkv(x).view(b, s, 3, self.h, dh).permute(2, 0, 3, 1, 4)
        if last_only:
            q = q[:, :, -1:, :]
        scores = q @ k.transpose(-2, -1) / math.sqrt(dh)
        if not last_only:
            scores = scores + self.mask[:s, :s]
        rows = 1 if last_only else s
        y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, rows, self.d)
        return self.out(y)


class Layer(nn.Module):
    def __init__(self, d, heads, length):
        super().__init__()
        self.attn = Attention(d, heads, length)
        self.attn_norm = nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, 4 * d, bias=False), nn.ReLU(),
                                 nn.Linear(4 * d, d, bias=False))
        self.ffn_norm = nn.LayerNorm(d)

    def forward(self, x, last_only):
        residual = x[:, -1:, :] if last_only else x
        a = self.attn_norm(residual + self.attn(x, last_only))
        return self.ffn_norm(a + self.ffn(a))


class Transformer(nn.Module):
    def __init__(self, vocab, classes, length, d=128, heads=4, layers=2, last_only=True):
        super().__init__()
        self.token = nn.Embedding(vocab, d)
        self.position = nn.Parameter(torch.randn(length, d))
        self.layers = nn.ModuleList(Layer(d, heads, length) for _ in range(layers))
        self.classifier = nn.Linear(d, classes, bias=False)
        self.last_only = last_only

    def forward(self, x):
        h = self.token(x) + self.position[: x.shape[1]]
        for i, layer in enumerate(self.layers):
            h = layer(h, self.last_only and i == len(self.layers) - 1)
        return self.classifier(h[:, -1, :])


def main():
    threads = int(sys.argv[1])
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    blocks = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    per_block = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    batch = int(sys.argv[5]) if len(sys.argv) > 5 else 512
    variant = sys.argv[6] if len(sys.argv) > 6 else "last"
    assert variant in ("last", "full"), variant
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    p = 97
    eqs = [((a, p, b, p + 1), a * pow(b, p - 2, p) % p) for a in range(p) for b in range(1, p)]
    rng = random.Random(0)
    rng.shuffle(eqs)
    train = eqs[: round(0.5 * len(eqs))]
    tokens = torch.tensor([e[0] for e in train], dtype=torch.long)
    labels = torch.tensor([e[1] for e in train], dtype=torch.long)

    model = Transformer(p + 2, p, 4, last_only=(variant == "last"))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-8,
                           weight_decay=0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(1.0, (t + 1) / 10))
    order, cursor = None, len(train)

    def step():
        nonlocal order, cursor
        if cursor >= len(train):
            order, cursor = torch.randperm(len(train)), 0
        idx = order[cursor: cursor + batch]
        cursor += len(idx)
        loss = F.cross_entropy(model(tokens[idx]), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        value = loss.item()
        norm = model.classifier.weight.detach().norm().item()
        opt.step()
        sched.step()
        return value, norm

    for _ in range(warmup):
        step()
    ms = []
    for b in range(blocks):
        t0 = time.perf_counter()
        for _ in range(per_block):
            loss, _ = step()
        ms.append((time.perf_counter() - t0) * 1000 / per_block)
        print(f"torch block {b + 1}: {ms[-1]:.2f} ms/step", flush=True)
    print(f"torch final loss {loss:.4f} after {warmup + blocks * per_block} steps")
    print(f"torch {variant} ms/step median={statistics.median(ms):.2f} min={min(ms):.2f} "
          f"threads={torch.get_num_threads()} batch={batch} steps/block={per_block} "
          f"torch={torch.__version__}")


if __name__ == "__main__":
    main()
