#!/usr/bin/env python3
"""PyTorch side of scripts/bench/transformer_speed.sh and scripts/gpu/measure-all.sh: the same
model, data and optimizer as dev.slingshot.examples.TransformerBench, timed the same way.

Model: token embedding + learned position embedding, 2 post-LayerNorm decoder layers (d=128,
4 heads, causal attention with one bias-free QKV projection, ReLU FFN 4d, bias-free), bias-free
classifier on the last position. Data: modular division p=97 (b != 0), tokens [a, op, b, =],
50/50 split, minibatches of 512 from per-epoch permutations. Adam lr 1e-3 (10-step linear
warm-up), betas (0.9, 0.98), eps 1e-8, no weight decay; cross-entropy.

Modes (--modes, comma-separated; each a fresh model with seed 0, timed one after the other):
  reads   the data on the device; each step reads the loss and the classifier weight norm back
          (one transfer, like the slingshot-djl cheap tier). The default, and what the CPU
          comparison in transformer_speed.sh has always timed.
  plain   the data on the device, nothing read back per step (idiomatic PyTorch; on a GPU the
          steps are only queued, and the timed block ends with torch.cuda.synchronize()).
  upload  each batch gathered on the host and copied to the device (a blocking copy), nothing read
          back: what DJL's plain ModularTraining loop does.
  bf16    as plain, under torch.autocast(bfloat16) (weights and Adam stay float32).
On --device cuda every timed block starts and ends with torch.cuda.synchronize().

usage: transformer_speed.py [THREADS] [warmup=50] [blocks=5] [steps_per_block=40] [batch=512]
                            [last|full] [--device cpu|cuda] [--modes reads,plain,upload,bf16]
                            [--json FILE]
"""
import argparse
import contextlib
import json
import math
import random
import statistics
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


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("threads", nargs="?", type=int, default=0,
                    help="torch.set_num_threads (0: torch's default)")
    ap.add_argument("warmup", nargs="?", type=int, default=50)
    ap.add_argument("blocks", nargs="?", type=int, default=5)
    ap.add_argument("per_block", nargs="?", type=int, default=40)
    ap.add_argument("batch", nargs="?", type=int, default=512)
    ap.add_argument("variant", nargs="?", default="last", choices=("last", "full"))
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    ap.add_argument("--modes", default="reads",
                    help="comma-separated: reads, plain, upload, bf16 (default: reads)")
    ap.add_argument("--json", help="write {torch_transformer[_MODE]_ms_per_step: ...} here "
                                   "(rewritten after each mode)")
    a = ap.parse_args()
    a.modes = [m for m in a.modes.split(",") if m]
    for m in a.modes:
        if m not in MODES:
            ap.error(f"unknown mode {m}; known: {', '.join(MODES)}")
    return a


MODES = ("reads", "plain", "upload", "bf16")


def division_data(p=97):
    eqs = [((a, p, b, p + 1), a * pow(b, p - 2, p) % p) for a in range(p) for b in range(1, p)]
    rng = random.Random(0)
    rng.shuffle(eqs)
    train = eqs[: round(0.5 * len(eqs))]
    tokens = torch.tensor([e[0] for e in train], dtype=torch.long)
    labels = torch.tensor([e[1] for e in train], dtype=torch.long)
    return tokens, labels


def time_mode(mode, a, device, tokens_cpu, labels_cpu, p=97):
    torch.manual_seed(0)
    cuda = device.type == "cuda"
    on_device = mode != "upload"
    tokens = tokens_cpu.to(device) if on_device else tokens_cpu
    labels = labels_cpu.to(device) if on_device else labels_cpu
    n = len(tokens)
    model = Transformer(p + 2, p, 4, last_only=(a.variant == "last")).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-8,
                           weight_decay=0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(1.0, (t + 1) / 10))
    autocast = (torch.autocast(device_type=device.type, dtype=torch.bfloat16)
                if mode == "bf16" else contextlib.nullcontext())
    state = {"order": None, "cursor": n}

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    def step():
        if state["cursor"] >= n:
            state["order"] = torch.randperm(n, device=tokens.device)
            state["cursor"] = 0
        c = state["cursor"]
        idx = state["order"][c: c + a.batch]
        state["cursor"] = c + len(idx)
        x, y = tokens[idx], labels[idx]
        if not on_device:
            x, y = x.to(device), y.to(device)
        with autocast:
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        read = None
        if mode == "reads":
            norm = model.classifier.weight.detach().norm()
            read = torch.stack([loss.detach().float(), norm]).tolist()
        opt.step()
        sched.step()
        return loss, read

    for _ in range(a.warmup):
        step()
    sync()
    ms = []
    loss = None
    for b in range(a.blocks):
        sync()
        t0 = time.perf_counter()
        for _ in range(a.per_block):
            loss, _ = step()
        sync()
        ms.append((time.perf_counter() - t0) * 1000 / a.per_block)
        tag = "torch" if len(a.modes) == 1 else f"torch[{mode}]"
        print(f"{tag} block {b + 1}: {ms[-1]:.2f} ms/step", flush=True)
    print(f"torch[{mode}] final loss {loss.item():.4f} after "
          f"{a.warmup + a.blocks * a.per_block} steps")
    print(f"torch {a.variant} ms/step median={statistics.median(ms):.2f} min={min(ms):.2f} "
          f"threads={torch.get_num_threads()} batch={a.batch} steps/block={a.per_block} "
          f"torch={torch.__version__} mode={mode} device={device_name(device)}", flush=True)
    return statistics.median(ms)


def device_name(device):
    if device.type == "cuda":
        return "cuda:" + torch.cuda.get_device_name(device).replace(" ", "_")
    return "cpu"


def main():
    a = parse()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    device = torch.device(a.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    tokens, labels = division_data()
    figures = {}
    for mode in a.modes:
        ms = time_mode(mode, a, device, tokens, labels)
        key = "torch_transformer_ms_per_step" if mode == "plain" else \
            f"torch_transformer_{mode}_ms_per_step"
        figures[key] = round(ms, 4)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(figures, f, indent=1)
                f.write("\n")


if __name__ == "__main__":
    main()
