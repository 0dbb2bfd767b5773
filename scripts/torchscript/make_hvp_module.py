"""Build the TorchScript Hessian-vector-product modules used by slingshot-djl.

Writes (with torch.jit.save):
  slingshot-djl/src/main/resources/dev/slingshot/djl/hvp.pt
      forward(loss: Tensor, params: List[Tensor], v: List[Tensor]) -> List[Tensor]
      returns the exact Hessian-vector product H.v of `loss` w.r.t. `params`
      (one tensor per param, same shape/dtype/device as the param).
  slingshot-djl/src/main/resources/dev/slingshot/djl/hvp_grad.pt
      forward(loss, params, v) -> List[Tensor] of length 2*len(params):
      the gradient list (detached) followed by the H.v list, from one call.
  slingshot-djl/src/main/resources/dev/slingshot/djl/grad_graph.pt
      forward(loss: Tensor, params: List[Tensor]) -> List[Tensor]
      the gradient list g WITH its autograd graph (create_graph=True, retain_graph=True), to be
      handed to hvp_from_grad.pt for any number of products on one loss (the first-order
      backward runs once per loss instead of once per product).
  slingshot-djl/src/main/resources/dev/slingshot/djl/hvp_from_grad.pt
      forward(g: List[Tensor], params: List[Tensor], v: List[Tensor]) -> List[Tensor]
      H.v = autograd.grad(g, params, grad_outputs=v, retain_graph=True, allow_unused=True).

  slingshot-djl/src/main/resources/dev/slingshot/djl/hvp_from_grad_flat.pt
      forward(v: Tensor, g: List[Tensor], params: List[Tensor]) -> Tensor
      the products of hvp_from_grad.pt for a flat v (the parameters' coordinates concatenated in
      order), returned as one flat vector. The gradient graph is the same per-parameter list, so
      the double backward is the same; the split of v into views and the concatenation of the
      result run inside the module instead of as separate native calls from Java.

  slingshot-djl/src/main/resources/dev/slingshot/djl/lanczos.pt
      forward(q0: Tensor, d: Tensor, tol: float, max_iter: int, g: List[Tensor],
              params: List[Tensor], u: Tensor) -> List[Tensor]
      the whole Lanczos iteration of slingshot-core's Lanczos.topEigenpair (same steps, same
      stopping rule) for the top eigenpair of H (d empty) or of D^1/2 H D^1/2 (d = D^1/2, flat),
      with every product on the gradient graph g of grad_graph.pt. Returns [y, stats]: y the unit
      Ritz vector (flat, q0's dtype) and stats = float64 [theta, iterations, converged, error,
      uHu, uu]: with a flat update u (empty for none), first the update sharpness's inner products
      u^T H u (one more product; NaN for a zero or non-finite u) and |u|^2 (NaN without u).
      On a small model each vector operation issued from Java costs several times its arithmetic;
      here the whole iteration is one call.

  slingshot-djl/src/main/resources/dev/slingshot/djl/adam_steps.pt
      forward(v: List[Tensor], numerator: float, sqrt_v_scale: float, eps: float,
              threshold: float, lr: float) -> List[Tensor]
      Adam's effective step numerator / (sqrt_v_scale * sqrt(v) + eps) per coordinate of each
      second-moment tensor v_i. Returns [stats, sqrt_d]: stats = float64, five per tensor (min,
      lower median, upper median, max, count above threshold), and sqrt_d = sqrt(step / lr), flat
      over all tensors in order, in v's dtype (D^1/2 of the preconditioned sharpness).

  slingshot-djl/src/main/resources/dev/slingshot/djl/adam_lanczos.pt
      forward(q0, tol, max_iter, g, params, v, numerator, sqrt_v_scale, eps, threshold, lr)
          -> [y, lanczos stats, adam stats]
      adam_steps.pt and then lanczos.pt on D^1/2 H D^1/2 with the D^1/2 it made, in one call
      (the preconditioned sharpness and the effective-step statistics of one probe).

Both use double backward:
  g  = torch.autograd.grad([loss], params, create_graph=True, retain_graph=True, allow_unused=True)
  hv = torch.autograd.grad(g, params, grad_outputs=v, retain_graph=True, allow_unused=True)
retain_graph=True on both calls, so several HVPs can be taken on the same loss graph
(e.g. Lanczos iterations). Gradients that autograd reports as None (a parameter the
loss / the gradient does not depend on) are replaced by zeros with the parameter's
dtype and device; a gradient that does not itself require grad (loss linear in
everything it reaches) contributes zero curvature. No scratch tensor is created on the
default device: everything is created with *_like(param) or on loss.device.
The modules never read or write `.grad`.

grad_graph.pt returns, for a parameter whose gradient is None, zeros_like(param) (same dtype
and device, requires_grad False: no curvature). hvp_from_grad.pt differentiates only the g_i
that require grad (the others contribute nothing), and returns zeros_like(param) for None.
Tensors returned from a scripted module keep their grad_fn (checked below), so the second
module differentiates through the first one's outputs.

The script verifies, by assertions, both the in-memory and the reloaded modules:
  * on 0.5 th^T A th + b^T th (float64, th split into 3 parameter tensors) H.v == A.v to 1e-12,
    and the gradient == A th + b to 1e-12;
  * three calls on the same loss graph all work and agree;
  * an unused parameter gets zero gradient and zero H.v;
  * on a small tanh MLP the result matches torch.autograd.functional.hvp;
  * grad_graph + hvp_from_grad: the returned g keep grad_fn, g == A th + b and H.v == A.v to 1e-12
    over 3 products on the same g, zeros for an unused parameter, a linear loss gives zero H.v,
    and the tanh MLP matches too.

Run from the repository root (needs PyTorch; built with Debian's python3-torch 1.13):
    /usr/bin/python3 scripts/torchscript/make_hvp_module.py
"""
import math
import os
from typing import List, Optional

import torch

torch.set_num_threads(1)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT_DIR = os.path.join(REPO, "slingshot-djl", "src", "main", "resources", "dev", "slingshot", "djl")


def _first_and_second(loss: torch.Tensor, params: List[torch.Tensor],
                      v: List[torch.Tensor]):
    """Shared body (scripted into both modules). Returns (grads, hvs)."""
    grads: List[torch.Tensor] = []
    hvs: List[torch.Tensor] = []
    if not loss.requires_grad:
        for p in params:
            grads.append(torch.zeros_like(p))
            hvs.append(torch.zeros_like(p))
        return grads, hvs
    g = torch.autograd.grad([loss], params, retain_graph=True, create_graph=True,
                            allow_unused=True)
    # Only gradients that are themselves differentiable take part in the second pass.
    outs: List[torch.Tensor] = []
    gouts: List[Optional[torch.Tensor]] = []
    for i in range(len(params)):
        gi = g[i]
        if gi is None:
            grads.append(torch.zeros_like(params[i]))
        else:
            grads.append(gi.detach())
            if gi.requires_grad:
                outs.append(gi)
                gouts.append(v[i])
    if len(outs) == 0:
        for p in params:
            hvs.append(torch.zeros_like(p))
        return grads, hvs
    h = torch.autograd.grad(outs, params, grad_outputs=gouts, retain_graph=True,
                            allow_unused=True)
    for i in range(len(params)):
        hi = h[i]
        if hi is None:
            hvs.append(torch.zeros_like(params[i]))
        else:
            hvs.append(hi)
    return grads, hvs


class Hvp(torch.nn.Module):
    """forward(loss, params, v) -> [H v_i for each param]."""

    def forward(self, loss: torch.Tensor, params: List[torch.Tensor],
                v: List[torch.Tensor]) -> List[torch.Tensor]:
        grads, hvs = _first_and_second(loss, params, v)
        return hvs


class HvpGrad(torch.nn.Module):
    """forward(loss, params, v) -> [grad_0..grad_{n-1}, Hv_0..Hv_{n-1}]."""

    def forward(self, loss: torch.Tensor, params: List[torch.Tensor],
                v: List[torch.Tensor]) -> List[torch.Tensor]:
        grads, hvs = _first_and_second(loss, params, v)
        out: List[torch.Tensor] = []
        for t in grads:
            out.append(t)
        for t in hvs:
            out.append(t)
        return out


def _grad_graph(loss: torch.Tensor, params: List[torch.Tensor]) -> List[torch.Tensor]:
    out: List[torch.Tensor] = []
    if not loss.requires_grad:
        for p in params:
            out.append(torch.zeros_like(p))
        return out
    g = torch.autograd.grad([loss], params, retain_graph=True, create_graph=True,
                            allow_unused=True)
    for i in range(len(params)):
        gi = g[i]
        if gi is None:
            out.append(torch.zeros_like(params[i]))
        else:
            out.append(gi)
    return out


def _hvp_from_grad(g: List[torch.Tensor], params: List[torch.Tensor],
                   v: List[torch.Tensor]) -> List[torch.Tensor]:
    outs: List[torch.Tensor] = []
    gouts: List[Optional[torch.Tensor]] = []
    for i in range(len(params)):
        if g[i].requires_grad:
            outs.append(g[i])
            gouts.append(v[i])
    hvs: List[torch.Tensor] = []
    if len(outs) == 0:
        for p in params:
            hvs.append(torch.zeros_like(p))
        return hvs
    h = torch.autograd.grad(outs, params, grad_outputs=gouts, retain_graph=True,
                            allow_unused=True)
    for i in range(len(params)):
        hi = h[i]
        if hi is None:
            hvs.append(torch.zeros_like(params[i]))
        else:
            hvs.append(hi)
    return hvs


def _hvp_from_grad_flat(v: torch.Tensor, g: List[torch.Tensor],
                        params: List[torch.Tensor]) -> torch.Tensor:
    sizes: List[int] = []
    for p in params:
        sizes.append(p.numel())
    parts = torch.split(v, sizes)
    views: List[torch.Tensor] = []
    for i in range(len(params)):
        views.append(parts[i].view(params[i].shape))
    flat: List[torch.Tensor] = []
    for h in _hvp_from_grad(g, params, views):
        flat.append(h.reshape(-1))
    return torch.cat(flat)


class HvpFromGradFlat(torch.nn.Module):
    """forward(v, g, params) -> flat H v, v flat, g from GradGraph on the same params."""

    def forward(self, v: torch.Tensor, g: List[torch.Tensor],
                params: List[torch.Tensor]) -> torch.Tensor:
        return _hvp_from_grad_flat(v, g, params)


def _flat_hvp(x: torch.Tensor, sizes: List[int], outs: List[torch.Tensor], used: List[int],
              params: List[torch.Tensor]) -> torch.Tensor:
    """H x for a flat x, on the gradients outs = [g[i] for i in used] (those with a graph)."""
    parts = torch.split(x, sizes)
    gouts: List[Optional[torch.Tensor]] = []
    for i in used:
        gouts.append(parts[i].view(params[i].shape))
    h = torch.autograd.grad(outs, params, grad_outputs=gouts, retain_graph=True,
                            allow_unused=True)
    flat: List[torch.Tensor] = []
    for i in range(len(params)):
        hi = h[i]
        if hi is None:
            flat.append(torch.zeros(sizes[i], dtype=x.dtype, device=x.device))
        else:
            flat.append(hi.reshape(-1))
    return torch.cat(flat)


def _lanczos(q0: torch.Tensor, d: torch.Tensor, tol: float, max_iter: int,
             g: List[torch.Tensor], params: List[torch.Tensor], u: torch.Tensor) -> List[torch.Tensor]:
    sizes: List[int] = []
    for p in params:
        sizes.append(p.numel())
    outs: List[torch.Tensor] = []
    used: List[int] = []
    for i in range(len(params)):
        if g[i].requires_grad:
            outs.append(g[i])
            used.append(i)
    precond = d.numel() > 0
    # The update sharpness u^T H u / |u|^2 of a flat update u, when one is given: its two inner
    # products, with one more product on the same gradient graph (none for a zero update).
    uhu = float("nan")
    uu = float("nan")
    if u.numel() > 0:
        uu = torch.dot(u, u).item()
        if uu > 0 and math.isfinite(uu):
            if len(outs) > 0:
                uhu = torch.dot(u, _flat_hvp(u, sizes, outs, used, params)).item()
            else:
                uhu = 0.0
    q = q0 / q0.norm()
    n = q.numel()
    # The Lanczos vectors are the rows of one matrix, grown by doubling: the products with the
    # basis below take views of its first rows instead of stacking the vectors at every iteration
    # (which copied the whole basis each time and was the iteration's largest cost on a small
    # model).
    cap = min(max_iter, 8)
    basis = torch.empty([cap, n], dtype=q.dtype, device=q.device)
    basis[0].copy_(q)
    # The tridiagonal matrix, float64 on the host, filled as the coefficients come (fill_ keeps a
    # float64 value; TorchScript's item assignment and torch.tensor round it through float32).
    tri = torch.zeros([max_iter, max_iter], dtype=torch.float64)
    theta = float("nan")
    error = float("inf")
    converged = False
    s = torch.ones(1, dtype=torch.float64)
    k = 0
    while k < max_iter:
        x = basis[k]
        if precond:
            x = x * d
        if len(outs) > 0:
            w = _flat_hvp(x, sizes, outs, used, params)
        else:
            w = torch.zeros_like(x)
        if precond:
            w = w * d
        b = basis[:k + 1]
        # Full re-orthogonalisation, classical Gram-Schmidt twice; alpha_k is the first pass's
        # last coefficient (the three-term recurrence's alpha_k q_k).
        c = torch.mv(b, w)
        w = torch.addmv(w, b.t(), c, beta=1.0, alpha=-1.0)
        c2 = torch.mv(b, w)
        w = torch.addmv(w, b.t(), c2, beta=1.0, alpha=-1.0)
        alpha = c[k].item()
        beta = w.norm().item()
        tri[k, k].fill_(alpha)
        k += 1
        if not (math.isfinite(alpha) and math.isfinite(beta)):
            theta = float("nan")
            break
        if k == 1:
            theta = alpha
            s = torch.ones(1, dtype=torch.float64)
            error = abs(beta)
        elif k == 2:
            # The 2x2 tridiagonal [[a1, b1], [b1, a2]] in closed form (LAPACK's eigh costs more
            # than the arithmetic): theta = m + r with m the mean of the diagonal, h half its
            # difference and r = sqrt(h^2 + b1^2); the eigenvector is (b1, theta - a1), where
            # theta - a1 = h + r is formed without cancellation.
            a1 = tri[0, 0].item()
            b1 = tri[1, 0].item()
            h = (alpha - a1) / 2.0
            r = math.sqrt(h * h + b1 * b1)
            theta = (a1 + alpha) / 2.0 + r
            gap = h + r if h >= 0.0 else b1 * b1 / (r - h)
            nrm = math.sqrt(b1 * b1 + gap * gap)
            s = _float64([b1 / nrm, gap / nrm])
            error = abs(beta * gap / nrm)
        else:
            evals, evecs = torch.linalg.eigh(tri[:k, :k])
            theta = evals[k - 1].item()
            s = evecs[:, k - 1]
            error = abs(beta * s[k - 1].item())
        invariant = beta <= 1e-12 * max(abs(theta), 2.2250738585072014e-308)
        if error <= tol * abs(theta) or invariant or not math.isfinite(theta):
            converged = math.isfinite(theta)
            break
        if k < max_iter:
            if k >= cap:
                grown = torch.empty([min(max_iter, 2 * cap), n], dtype=q.dtype, device=q.device)
                grown[:cap].copy_(basis)
                basis = grown
                cap = basis.shape[0]
            basis[k].copy_(w).div_(beta)
            tri[k, k - 1].fill_(beta)
            tri[k - 1, k].fill_(beta)
    if math.isfinite(theta):
        # s is on the host (the tridiagonal problem is float64 there); the basis on q0's device.
        y = torch.mv(basis[:k].t(), s.to(q.device, q.dtype))
        nrm = y.norm()
        if nrm.item() > 0:
            y = y / nrm
    else:
        y = basis[0]
    stats = _float64([theta, float(k), 1.0 if converged else 0.0, error, uhu, uu])
    return [y, stats]


def _float64(xs: List[float]) -> torch.Tensor:
    parts: List[torch.Tensor] = []
    for x in xs:
        parts.append(torch.full([1], x, dtype=torch.float64))
    return torch.cat(parts)


class LanczosModule(torch.nn.Module):
    """forward(q0, d, tol, max_iter, g, params) -> [y, float64 [theta, k, converged, error]]."""

    def forward(self, q0: torch.Tensor, d: torch.Tensor, tol: float, max_iter: int,
                g: List[torch.Tensor], params: List[torch.Tensor],
                u: torch.Tensor) -> List[torch.Tensor]:
        return _lanczos(q0, d, tol, max_iter, g, params, u)


def _lanczos_check(gg_mod, lz_mod, label):
    """Top eigenpair of a quadratic with a known spectrum, of D^1/2 A D^1/2, and iteration caps."""
    gen = torch.Generator().manual_seed(1357)
    shapes = [(3, 4), (5,), (2, 3)]
    sizes = [12, 5, 6]
    n = sum(sizes)
    qm, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    spectrum = torch.linspace(-2.0, 10.0, n, dtype=torch.float64)
    a = qm @ torch.diag(spectrum) @ qm.T
    theta0 = torch.randn(n, generator=gen, dtype=torch.float64)
    params = [t.reshape(sh).clone().requires_grad_(True)
              for t, sh in zip(torch.split(theta0, sizes), shapes)]
    th = torch.cat([p.reshape(-1) for p in params])
    loss = 0.5 * th @ (a @ th)
    g = gg_mod(loss, params)
    q0 = torch.randn(n, generator=gen, dtype=torch.float64)
    empty = torch.zeros(0, dtype=torch.float64)
    y, stats = lz_mod(q0, empty, 1e-10, 64, g, params, empty)
    lam = stats[0].item()
    assert abs(lam - 10.0) <= 1e-8, f"{label}: lambda {lam}"
    assert stats[2].item() == 1.0 and 1 <= stats[1].item() <= n
    ry = (y @ (a @ y)).item()
    assert abs(ry - 10.0) <= 1e-6 and abs(y.norm().item() - 1) <= 1e-12
    # Warm start from the eigenvector: converges at once.
    _, warm = lz_mod(y, empty, 1e-6, 64, g, params, empty)
    assert warm[1].item() <= 2, f"{label}: warm start took {warm[1].item()}"
    # Preconditioned: top eigenvalue of D^1/2 A D^1/2.
    dvec = torch.rand(n, generator=gen, dtype=torch.float64) + 0.5
    want = torch.linalg.eigvalsh(torch.diag(dvec) @ a @ torch.diag(dvec))[-1].item()
    _, pst = lz_mod(q0, dvec, 1e-10, 64, g, params, empty)
    assert abs(pst[0].item() - want) <= 1e-8 * abs(want), f"{label}: preconditioned {pst[0].item()!r} want {want!r}"
    # Two distinct eigenvalues (3 on one direction, 1 elsewhere): the Krylov space is invariant
    # after two products, so the closed-form 2x2 step must give 3 exactly, from a start mostly
    # along the top eigenvector (a1 > a2) and from a random one.
    top = qm[:, 0]
    a2 = torch.eye(n, dtype=torch.float64) + 2.0 * torch.outer(top, top)
    loss2 = 0.5 * th @ (a2 @ th)
    g2 = gg_mod(loss2, params)
    for start in [top + 0.05 * q0, q0]:
        y2, st2 = lz_mod(start, empty, 1e-10, 64, g2, params, empty)
        assert st2[1].item() == 2.0 and st2[2].item() == 1.0, f"{label}: 2x2 stats {st2}"
        assert abs(st2[0].item() - 3.0) <= 1e-12, f"{label}: 2x2 lambda {st2[0].item()!r}"
        assert abs(abs((y2 @ top).item()) - 1.0) <= 1e-12, f"{label}: 2x2 eigenvector"
    # The update sharpness of a flat u with the same call; none for an empty or a zero u.
    u = torch.randn(n, generator=gen, dtype=torch.float64)
    _, ust = lz_mod(q0, empty, 1e-10, 64, g, params, u)
    want_uhu = (u @ (a @ u)).item()
    assert abs(ust[4].item() - want_uhu) <= 1e-12 * abs(want_uhu), f"{label}: uHu {ust[4]}"
    assert abs(ust[5].item() - (u @ u).item()) <= 1e-12 * (u @ u).item()
    assert abs(ust[0].item() - lam) <= 1e-8 and ust[1].item() == stats[1].item()
    assert math.isnan(stats[4].item()) and math.isnan(stats[5].item())
    _, zst = lz_mod(q0, empty, 1e-10, 64, g, params, torch.zeros(n, dtype=torch.float64))
    assert math.isnan(zst[4].item()) and zst[5].item() == 0.0
    # The iteration cap.
    _, capped = lz_mod(q0, empty, 1e-14, 2, g, params, empty)
    assert capped[1].item() == 2 and capped[2].item() == 0.0
    for p in params:
        assert p.grad is None, "modules must not touch .grad"
    print(f"{label}: lanczos lambda {lam:.12g} in {int(stats[1].item())} products, warm"
          f" {int(warm[1].item())}; preconditioned error {abs(pst[0].item() - want):.3g}")


def _adam_steps(v: List[torch.Tensor], numerator: float, sqrt_v_scale: float, eps: float,
                threshold: float, lr: float) -> List[torch.Tensor]:
    # The steps of all tensors as one flat vector (one pass of elementwise operations), then the
    # statistics per tensor on views of it: a few operations per tensor instead of a dozen.
    sizes: List[int] = []
    flat_v: List[torch.Tensor] = []
    for vi in v:
        sizes.append(vi.numel())
        flat_v.append(vi.reshape(-1))
    step = numerator / (torch.cat(flat_v).sqrt() * sqrt_v_scale + eps)
    parts = torch.split(step, sizes)
    rows: List[torch.Tensor] = []
    for i in range(len(sizes)):
        s = parts[i]
        lo, hi = torch.aminmax(s)
        # median() is the lower median (the kthvalue at (n+1)//2); the upper one of an even count
        # (the kthvalue at n//2+1) is the lower median of -s, negated.
        lower = s.median()
        if sizes[i] % 2 == 1:
            upper = lower
        else:
            upper = torch.neg(torch.neg(s).median())
        rows.append(torch.stack([lo, lower, upper, hi]))
    # Counts above the threshold per tensor: a running count over the flat vector, read at each
    # tensor's last coordinate and differenced (integers, exact).
    above = torch.cumsum(step > threshold, 0)
    ends: List[int] = []
    e = 0
    for n in sizes:
        e += n
        ends.append(e - 1)
    at_ends = above[torch.tensor(ends, device=step.device)]
    counts = torch.diff(at_ends, prepend=torch.zeros(1, dtype=at_ends.dtype, device=step.device))
    stats = torch.cat([torch.stack(rows).double(), counts.double().unsqueeze(1)], 1).reshape(-1)
    return [stats, (step / lr).sqrt()]


class AdamSteps(torch.nn.Module):
    """forward(v, numerator, sqrt_v_scale, eps, threshold, lr) -> [stats, sqrt_d]."""

    def forward(self, v: List[torch.Tensor], numerator: float, sqrt_v_scale: float, eps: float,
                threshold: float, lr: float) -> List[torch.Tensor]:
        return _adam_steps(v, numerator, sqrt_v_scale, eps, threshold, lr)


def _adam_steps_check(mod, label):
    gen = torch.Generator().manual_seed(5)
    v = [torch.rand(3, 4, generator=gen, dtype=torch.float64) * 1e-4,
         torch.rand(5, generator=gen, dtype=torch.float64) * 1e-6,
         torch.rand(1, generator=gen, dtype=torch.float64)]
    num, c, eps, lr = 1e-3, 0.5, 1e-8, 1e-3
    steps = [(num / (c * t.sqrt() + eps)).reshape(-1) for t in v]
    for thr in [0.0, 0.3, float(steps[0].median()), 1e9]:
        stats, sqrt_d = mod(v, num, c, eps, thr, lr)
        for i, st in enumerate(steps):
            srt = st.sort().values
            n = st.numel()
            want = torch.tensor([srt[0], srt[(n - 1) // 2], srt[n // 2], srt[-1],
                                 float((st > thr).sum())], dtype=torch.float64)
            got = stats[5 * i:5 * i + 5]
            assert torch.allclose(got, want, rtol=1e-12, atol=0), \
                f"{label}: tensor {i} threshold {thr} {got} {want}"
        assert torch.allclose(sqrt_d, (torch.cat(steps) / lr).sqrt(), rtol=1e-12)
    print(f"{label}: adam steps statistics match sorted order statistics for {len(v)} tensors")


class AdamLanczos(torch.nn.Module):
    """forward(q0, tol, max_iter, g, params, v, numerator, sqrt_v_scale, eps, threshold, lr)
    -> [y, lanczos stats, adam stats]: adam_steps.pt, then lanczos.pt on D^1/2 H D^1/2 with its
    D^1/2, in one call."""

    def forward(self, q0: torch.Tensor, tol: float, max_iter: int, g: List[torch.Tensor],
                params: List[torch.Tensor], v: List[torch.Tensor], numerator: float,
                sqrt_v_scale: float, eps: float, threshold: float,
                lr: float) -> List[torch.Tensor]:
        steps = _adam_steps(v, numerator, sqrt_v_scale, eps, threshold, lr)
        none = torch.zeros(0, dtype=q0.dtype, device=q0.device)
        top = _lanczos(q0, steps[1], tol, max_iter, g, params, none)
        return [top[0], top[1], steps[0]]


def _adam_lanczos_check(gg_mod, lz_mod, ad_mod, al_mod, label):
    """The one-call module gives what adam_steps.pt and then lanczos.pt give, bit for bit."""
    gen = torch.Generator().manual_seed(2468)
    shapes = [(3, 4), (5,), (2, 3)]
    sizes = [12, 5, 6]
    n = sum(sizes)
    qm, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    a = qm @ torch.diag(torch.linspace(-1.0, 7.0, n, dtype=torch.float64)) @ qm.T
    params = [t.reshape(sh).clone().requires_grad_(True)
              for t, sh in zip(torch.split(torch.randn(n, generator=gen, dtype=torch.float64),
                                           sizes), shapes)]
    th = torch.cat([p.reshape(-1) for p in params])
    g = gg_mod(0.5 * th @ (a @ th), params)
    v = [torch.rand(sh, generator=gen, dtype=torch.float64) * 1e-4 for sh in shapes]
    q0 = torch.randn(n, generator=gen, dtype=torch.float64)
    args = (1e-3, 0.9, 1e-8, 0.25, 1e-3)
    y, st, adam = al_mod(q0, 1e-10, 64, g, params, v, *args)
    want_adam, sqrt_d = ad_mod(v, *args)
    want_y, want_st = lz_mod(q0, sqrt_d, 1e-10, 64, g, params, torch.zeros(0, dtype=q0.dtype))
    assert torch.equal(adam, want_adam), f"{label}: adam stats"
    assert torch.equal(st[:4], want_st[:4]) and torch.equal(y, want_y), f"{label}: lanczos"
    want = torch.linalg.eigvalsh(torch.diag(sqrt_d) @ a @ torch.diag(sqrt_d))[-1].item()
    assert abs(st[0].item() - want) <= 1e-8 * abs(want), f"{label}: {st[0].item()} {want}"
    print(f"{label}: adam_lanczos equals adam_steps then lanczos; lambda error"
          f" {abs(st[0].item() - want):.3g}")


class GradGraph(torch.nn.Module):
    """forward(loss, params) -> [g_i with its autograd graph] (None -> zeros_like(param))."""

    def forward(self, loss: torch.Tensor, params: List[torch.Tensor]) -> List[torch.Tensor]:
        return _grad_graph(loss, params)


class HvpFromGrad(torch.nn.Module):
    """forward(g, params, v) -> [H v_i], g from GradGraph on the same params."""

    def forward(self, g: List[torch.Tensor], params: List[torch.Tensor],
                v: List[torch.Tensor]) -> List[torch.Tensor]:
        return _hvp_from_grad(g, params, v)


def _quadratic(gen):
    """0.5 th^T A th + b^T th (float64, random symmetric A) over three parameter tensors, and an
    unused parameter; returns shapes, sizes, n, A, b, th0, params, unused, loss."""
    shapes = [(3, 4), (5,), (2, 3)]
    sizes = [3 * 4, 5, 2 * 3]
    n = sum(sizes)
    m = torch.randn(n, n, generator=gen, dtype=torch.float64)
    a = m + m.T
    b = torch.randn(n, generator=gen, dtype=torch.float64)
    theta0 = torch.randn(n, generator=gen, dtype=torch.float64)
    params = [t.reshape(s).clone().requires_grad_(True)
              for t, s in zip(torch.split(theta0, sizes), shapes)]
    unused = torch.randn(4, generator=gen, dtype=torch.float64).requires_grad_(True)
    theta = torch.cat([p.reshape(-1) for p in params])
    loss = 0.5 * theta @ (a @ theta) + b @ theta
    return shapes, sizes, n, a, b, theta0, params, unused, loss


def _grad_graph_check(gg_mod, hfg_mod, label):
    gen = torch.Generator().manual_seed(4321)
    shapes, sizes, n, a, b, theta0, params, unused, loss = _quadratic(gen)
    allp = params + [unused]
    g = gg_mod(loss, allp)
    assert len(g) == len(allp)
    # Outputs of a scripted module keep their graph: the second module differentiates through them.
    for t in g[:len(params)]:
        assert t.requires_grad and t.grad_fn is not None, f"{label}: g lost its grad_fn"
    assert not g[-1].requires_grad and torch.count_nonzero(g[-1]).item() == 0
    grad = torch.cat([t.detach().reshape(-1) for t in g[:len(params)]])
    gerr = (grad - (a @ theta0 + b)).abs().max().item()
    assert gerr <= 1e-12, f"{label}: grad_graph gradient error {gerr}"
    errs = []
    for call in range(3):  # several products on the same g
        vflat = torch.randn(n, generator=gen, dtype=torch.float64)
        v = [t.reshape(s) for t, s in zip(torch.split(vflat, sizes), shapes)]
        hv = hfg_mod(g, allp, v + [torch.ones(4, dtype=torch.float64)])
        assert len(hv) == len(allp)
        got = torch.cat([h.reshape(-1) for h in hv[:len(params)]])
        err = (got - a @ vflat).abs().max().item()
        assert err <= 1e-12, f"{label}: hvp_from_grad H.v error {err}"
        assert torch.count_nonzero(hv[-1]).item() == 0
        for h, p in zip(hv, allp):
            assert h.shape == p.shape and h.dtype == p.dtype
        errs.append(err)
    for p in allp:
        assert p.grad is None, "modules must not touch .grad"
    # Linear loss: g does not require grad, H.v is zero.
    w = torch.randn(5, generator=gen, dtype=torch.float64).requires_grad_(True)
    gl = gg_mod((w * 3.0).sum(), [w])
    assert not gl[0].requires_grad
    z = hfg_mod(gl, [w], [torch.ones(5, dtype=torch.float64)])
    assert torch.count_nonzero(z[0]).item() == 0
    # A loss without graph: zero gradient, zero H.v.
    z0 = hfg_mod(gg_mod(torch.tensor(1.0, dtype=torch.float64), [w]), [w],
                 [torch.ones(5, dtype=torch.float64)])
    assert torch.count_nonzero(z0[0]).item() == 0
    # tanh MLP against autograd.functional.hvp.
    gen = torch.Generator().manual_seed(99)
    x = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    w1 = (0.5 * torch.randn(5, 4, generator=gen, dtype=torch.float64)).requires_grad_(True)
    b1 = (0.1 * torch.randn(5, generator=gen, dtype=torch.float64)).requires_grad_(True)
    w2 = (0.5 * torch.randn(2, 5, generator=gen, dtype=torch.float64)).requires_grad_(True)
    vm = [torch.randn(t.shape, generator=gen, dtype=torch.float64) for t in (w1, b1, w2)]

    def f(w1_, b1_, w2_):
        return (torch.tanh(x @ w1_.T + b1_) @ w2_.T).pow(2).mean()

    gm = gg_mod(f(w1, b1, w2), [w1, b1, w2])
    got = hfg_mod(gm, [w1, b1, w2], vm)
    _, want = torch.autograd.functional.hvp(f, (w1.detach(), b1.detach(), w2.detach()), tuple(vm))
    merr = max((g_ - w_).abs().max().item() for g_, w_ in zip(got, want))
    assert merr <= 1e-12, f"{label}: MLP hvp_from_grad error {merr}"
    print(f"{label}: grad_graph+hvp_from_grad quadratic H.v max abs errors over 3 products on one g:"
          f" {errs}; grad error {gerr:.3g}; tanh-MLP error {merr:.3g}")


def _flat_check(gg_mod, hfgf_mod, label):
    """The flat-vector product against A v on the quadratic (with an unused parameter)."""
    gen = torch.Generator().manual_seed(2468)
    shapes, sizes, n, a, b, theta0, params, unused, loss = _quadratic(gen)
    allp = params + [unused]
    g = gg_mod(loss, allp)
    errs = []
    for call in range(3):  # several products on the same g
        vflat = torch.randn(n + 4, generator=gen, dtype=torch.float64)
        hv = hfgf_mod(vflat, g, allp)
        assert hv.shape == (n + 4,) and hv.dtype == torch.float64
        err = (hv[:n] - a @ vflat[:n]).abs().max().item()
        assert err <= 1e-12, f"{label}: flat H.v error {err}"
        assert torch.count_nonzero(hv[n:]).item() == 0
        errs.append(err)
    for p in allp:
        assert p.grad is None, "modules must not touch .grad"
    print(f"{label}: hvp_from_grad_flat quadratic H.v max abs errors over 3 products: {errs}")


def _quadratic_check(hvp_mod, hvp_grad_mod, label):
    gen = torch.Generator().manual_seed(1234)
    shapes, sizes, n, a, b, theta0, params, unused, loss = _quadratic(gen)

    results = []
    for call in range(3):  # several HVPs on the same graph, different v
        vflat = torch.randn(n, generator=gen, dtype=torch.float64)
        v = [t.reshape(s) for t, s in zip(torch.split(vflat, sizes), shapes)]
        hv = hvp_mod(loss, params, v)
        got = torch.cat([h.reshape(-1) for h in hv])
        want = a @ vflat
        err = (got - want).abs().max().item()
        assert err <= 1e-12, f"{label}: H.v error {err}"
        for h, p in zip(hv, params):
            assert h.shape == p.shape and h.dtype == p.dtype
        gh = hvp_grad_mod(loss, params + [unused], v + [torch.ones(4, dtype=torch.float64)])
        assert len(gh) == 2 * (len(params) + 1)
        grad = torch.cat([t.reshape(-1) for t in gh[:len(params)]])
        gerr = (grad - (a @ theta0 + b)).abs().max().item()
        assert gerr <= 1e-12, f"{label}: grad error {gerr}"
        got2 = torch.cat([t.reshape(-1) for t in gh[len(params) + 1:2 * len(params) + 1]])
        assert (got2 - want).abs().max().item() <= 1e-12
        assert torch.count_nonzero(gh[len(params)]).item() == 0  # unused param: zero grad
        assert torch.count_nonzero(gh[-1]).item() == 0  # unused param: zero H.v
        assert not any(t.requires_grad for t in gh[:len(params)])
        results.append(err)
    for p in params:
        assert p.grad is None, "module must not touch .grad"
    # Loss linear in its parameter: gradient is constant, curvature zero.
    w = torch.randn(5, generator=gen, dtype=torch.float64).requires_grad_(True)
    lin = (w * 3.0).sum()
    z = hvp_mod(lin, [w], [torch.ones(5, dtype=torch.float64)])
    assert torch.count_nonzero(z[0]).item() == 0
    print(f"{label}: quadratic H.v max abs errors over 3 calls on one graph: {results}")


def _mlp_check(hvp_mod, label):
    gen = torch.Generator().manual_seed(99)
    x = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    w1 = (0.5 * torch.randn(5, 4, generator=gen, dtype=torch.float64)).requires_grad_(True)
    b1 = (0.1 * torch.randn(5, generator=gen, dtype=torch.float64)).requires_grad_(True)
    w2 = (0.5 * torch.randn(2, 5, generator=gen, dtype=torch.float64)).requires_grad_(True)
    v = [torch.randn(t.shape, generator=gen, dtype=torch.float64) for t in (w1, b1, w2)]

    def f(w1_, b1_, w2_):
        return (torch.tanh(x @ w1_.T + b1_) @ w2_.T).pow(2).mean()

    loss = f(w1, b1, w2)
    got = hvp_mod(loss, [w1, b1, w2], v)
    _, want = torch.autograd.functional.hvp(f, (w1.detach(), b1.detach(), w2.detach()), tuple(v))
    err = max((g - w_).abs().max().item() for g, w_ in zip(got, want))
    assert err <= 1e-12, f"{label}: MLP H.v error {err}"
    print(f"{label}: tanh-MLP H.v vs autograd.functional.hvp max abs error {err:.3g}")


def main():
    torch.manual_seed(0)
    os.makedirs(OUT_DIR, exist_ok=True)
    hvp = torch.jit.script(Hvp())
    hvp_grad = torch.jit.script(HvpGrad())
    _quadratic_check(hvp, hvp_grad, "scripted")
    _mlp_check(hvp, "scripted")
    p1 = os.path.join(OUT_DIR, "hvp.pt")
    p2 = os.path.join(OUT_DIR, "hvp_grad.pt")
    torch.jit.save(hvp, p1)
    torch.jit.save(hvp_grad, p2)
    l1 = torch.jit.load(p1)
    l2 = torch.jit.load(p2)
    _quadratic_check(l1, l2, "reloaded")
    _mlp_check(l1, "reloaded")
    gg = torch.jit.script(GradGraph())
    hfg = torch.jit.script(HvpFromGrad())
    _grad_graph_check(gg, hfg, "scripted")
    p3 = os.path.join(OUT_DIR, "grad_graph.pt")
    p4 = os.path.join(OUT_DIR, "hvp_from_grad.pt")
    torch.jit.save(gg, p3)
    torch.jit.save(hfg, p4)
    _grad_graph_check(torch.jit.load(p3), torch.jit.load(p4), "reloaded")
    hfgf = torch.jit.script(HvpFromGradFlat())
    _flat_check(gg, hfgf, "scripted")
    p5 = os.path.join(OUT_DIR, "hvp_from_grad_flat.pt")
    torch.jit.save(hfgf, p5)
    _flat_check(torch.jit.load(p3), torch.jit.load(p5), "reloaded")
    lz = torch.jit.script(LanczosModule())
    _lanczos_check(gg, lz, "scripted")
    p6 = os.path.join(OUT_DIR, "lanczos.pt")
    torch.jit.save(lz, p6)
    _lanczos_check(torch.jit.load(p3), torch.jit.load(p6), "reloaded")
    ad = torch.jit.script(AdamSteps())
    _adam_steps_check(ad, "scripted")
    p7 = os.path.join(OUT_DIR, "adam_steps.pt")
    torch.jit.save(ad, p7)
    _adam_steps_check(torch.jit.load(p7), "reloaded")
    al = torch.jit.script(AdamLanczos())
    _adam_lanczos_check(gg, lz, ad, al, "scripted")
    p8 = os.path.join(OUT_DIR, "adam_lanczos.pt")
    torch.jit.save(al, p8)
    _adam_lanczos_check(torch.jit.load(p3), torch.jit.load(p6), torch.jit.load(p7),
                        torch.jit.load(p8), "reloaded")
    for p in (p1, p2, p3, p4, p5, p6, p7, p8):
        print(f"wrote {os.path.relpath(p, REPO)} ({os.path.getsize(p)} bytes)")
    print("torch", torch.__version__)


if __name__ == "__main__":
    main()
