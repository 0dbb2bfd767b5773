"""Warm-started Lanczos on the benchmark MLP's Hessian, in float64 PyTorch: stopping rules and
start blocks, against a reference eigenvalue (not part of the build; needs python3-torch).

The set-up mirrors `OverheadBench probe16` (40-128-2 ReLU MLP, batch 32, 16 batches of Gaussian
inputs with random labels, AdamW lr 1e-3, a probe every 16 steps on the current batch), but trains
in PyTorch, in float64 so that the Lanczos error is not hidden under float32 rounding, and so on
its own trajectory: the iteration counts are not the DJL benchmark's. Every Lanczos here keeps the
full re-orthogonalisation (classical Gram-Schmidt twice) of slingshot-core's Lanczos; the
reference is a cold Lanczos to 1e-10.

Compared, for λmax (the update's product counted where the start uses it) and for the
preconditioned D^1/2 H D^1/2 (D = Adam's effective step over lr):
  single    the previous top Ritz vector, stop when |beta_k s_k| <= tol |theta| (slingshot's rule)
  gap       the same start, stop when min(r, r^2 / (theta_1 - theta_2)) <= tol |theta|
  change    the same start, stop when |theta_k - theta_(k-1)| <= tol |theta_k| (PyHessian's rule)
  [y, u]    a two-vector start: the previous Ritz vector and the update
  [y1, y2]  a two-vector start: the previous two Ritz vectors
A two-vector start runs the iteration on the block's Krylov space, with the projected matrix
taken from the Gram-Schmidt coefficients; its residual is the norm of the rows below the block.

Run: /usr/bin/python3 scripts/experiments/lanczos_warm_start.py [warm-up steps] [probes]
(15000 80: about 10 s on one core).
"""
import statistics
import sys

import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)
TOL = 1e-3


def main():
    warmup = int(sys.argv[1]) if len(sys.argv) > 1 else 15000
    probes = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    torch.manual_seed(1)
    batch = 32
    xs = torch.randn(16 * batch, 40)
    ys = torch.randint(0, 2, (16 * batch,))
    model = torch.nn.Sequential(torch.nn.Linear(40, 128), torch.nn.ReLU(), torch.nn.Linear(128, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    params = list(model.parameters())
    n = sum(p.numel() for p in params)
    lossf = torch.nn.CrossEntropyLoss()
    state = {"step": 0, "update": None}

    def current():
        j = state["step"] % 16
        return xs[j * batch:(j + 1) * batch], ys[j * batch:(j + 1) * batch]

    def train(steps):
        for _ in range(steps):
            x, y = current()
            opt.zero_grad()
            lossf(model(x), y).backward()
            before = flat([p.detach() for p in params]).clone()
            opt.step()
            state["step"] += 1
            state["update"] = flat([p.detach() for p in params]) - before

    def hessian(d=None):
        x, y = current()
        g = flat(torch.autograd.grad(lossf(model(x), y), params, create_graph=True))

        def product(v):
            if d is not None:
                v = v * d
            h = flat(torch.autograd.grad(g, params, grad_outputs=v, retain_graph=True)).detach()
            return h * d if d is not None else h
        return product

    def sqrt_d():
        st = opt.state[params[0]]["step"].item()
        v = flat([opt.state[p]["exp_avg_sq"] for p in params])
        step = (1 / (1 - 0.9 ** st)) / ((v / (1 - 0.999 ** st)).sqrt() + 1e-8)
        return step.sqrt()

    train(warmup)
    names = ["single", "gap", "change", "[y, u]", "[y1, y2]"]
    its = {k: [] for k in names + ["pre single", "pre [z1, z2]"]}
    err = {k: [] for k in its}
    warm = {}
    for j in range(probes + 1):
        train(16)
        h = hessian()
        ref = lanczos(h, [torch.randn(n)], 1e-10, "residual", 300)[0]
        hp = hessian(sqrt_d())
        pref = lanczos(hp, [torch.randn(n)], 1e-10, "residual", 300)[0]
        if j == 0:
            top = lanczos(h, [torch.randn(n)], TOL, "residual")
            for k in names:
                warm[k] = (top[2], top[3])
            pre = lanczos(hp, [torch.randn(n)], TOL, "residual")
            warm["pre single"] = warm["pre [z1, z2]"] = (pre[2], pre[3])
            continue
        for k in names:
            y1, y2 = warm[k]
            if k == "[y, u]":
                r = lanczos(h, [y1, state["update"]], TOL, "residual")
                products = r[1]
            elif k == "[y1, y2]":
                r = lanczos(h, [y1, y2], TOL, "residual")
                products = r[1] + 1
            else:
                r = lanczos(h, [y1], TOL, {"single": "residual"}.get(k, k))
                products = r[1] + 1
            warm[k] = (r[2], r[3])
            its[k].append(products)
            err[k].append(abs(r[0] - ref) / abs(ref))
        for k, block in (("pre single", 1), ("pre [z1, z2]", 2)):
            z1, z2 = warm[k]
            r = lanczos(hp, [z1, z2][:block], TOL, "residual")
            warm[k] = (r[2], r[3])
            its[k].append(r[1])
            err[k].append(abs(r[0] - pref) / abs(pref))
    print(f"{probes} probes after {warmup} steps, tolerance {TOL}")
    print("start / rule         products  max err   median err  probes off by > tol")
    for k in its:
        e = err[k]
        print(f"{k:20s} {statistics.mean(its[k]):8.2f}  {max(e):.2e}  {statistics.median(e):.2e}"
              f"    {sum(x > TOL for x in e)}")
    print("(lambda rows count the product along the update: the two-vector [y, u] start reads the")
    print(" update sharpness from its projected matrix, the others take one more product)")


def flat(ts):
    return torch.cat([t.reshape(-1) for t in ts])


def lanczos(h, starts, tol, rule, max_iter=64):
    """Top Ritz pair of h on the Krylov space of the start block: (theta, products, y1, y2)."""
    basis = []
    for s in starts:
        w = s.clone()
        for _ in range(2):
            for q in basis:
                w = w - (q @ w) * q
        if w.norm() > 1e-10 * s.norm():
            basis.append(w / w.norm())
    m = len(basis)
    cols = []
    previous = None
    for j in range(max_iter):
        w = h(basis[j])
        b = torch.stack(basis)
        c = b @ w
        w = w - b.t() @ c
        c2 = b @ w
        w = w - b.t() @ c2
        beta = w.norm().item()
        col = torch.zeros(max_iter + m + 1)
        col[:len(basis)] = c + c2
        col[len(basis)] = beta
        cols.append(col)
        basis.append(w / beta)
        k = j + 1
        coef = torch.stack(cols, 1)
        t = (coef[:k, :k] + coef[:k, :k].t()) / 2
        ev, evec = torch.linalg.eigh(t)
        theta, s = ev[-1].item(), evec[:, -1]
        r = (coef[k:k + m + 1, :k] @ s).norm().item()
        if rule == "gap" and k > 1:
            r = min(r, r * r / max(theta - ev[-2].item(), 1e-300))
        elif rule == "change":
            r = float("inf") if previous is None else abs(theta - previous)
        previous = theta
        if r <= tol * abs(theta):
            break
    q = torch.stack(basis[:k]).t()
    y1 = q @ s
    y2 = q @ evec[:, -2] if k > 1 else torch.randn_like(y1)
    return theta, k, y1 / y1.norm(), y2 / y2.norm()


if __name__ == "__main__":
    main()
