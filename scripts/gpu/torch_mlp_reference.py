"""PyTorch reference for the timed parts of `slingshot doctor`, on the same machine.

Same shapes and optimizer as DoctorCommand's checks: a 1024x1024 float32 and float16 matrix
product (50 timed products, one sync at the end), and an MLP 64-256-256-10 (ReLU) on a batch of
256 with cross-entropy and torch.optim.Adam(lr=1e-3), 10 warm-up steps then 100 timed steps
(the loss is read back only at the end). Data and initialisation differ from the Java run, the
amount of work does not. Prints one line per figure.

    python3 torch_mlp_reference.py [--device cuda|cpu] [--steps 100]
"""
import argparse
import time

import torch


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul(device, dtype, n=1024, reps=50):
    a = torch.rand(n, n, device=device).mul_(2).sub_(1).to(dtype)
    b = torch.rand(n, n, device=device).mul_(2).sub_(1).to(dtype)
    for _ in range(3):
        (a @ b).sum().item()
    sync(device)
    t0 = time.perf_counter()
    c = None
    for _ in range(reps):
        c = a @ b
    c.sum().item()
    sec = (time.perf_counter() - t0) / reps
    print(f"torch matmul {n}x{n} {dtype}: {sec * 1e3:.3f} ms per product, "
          f"{2 * n ** 3 / sec / 1e12:.2f} TFLOP/s ({reps} reps)", flush=True)


def mlp(device, steps, warm=10, batch=256, inp=64, classes=10):
    torch.manual_seed(1234)
    model = torch.nn.Sequential(
        torch.nn.Linear(inp, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, classes)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, inp, device=device).mul_(2).sub_(1)
    teacher = torch.rand(inp, classes, device=device).mul_(2).sub_(1)
    y = (x @ teacher).argmax(1)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()
        return loss

    first = step().item()
    for _ in range(warm - 1):
        step()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps - 1):
        step()
    last = step().item()
    ms = (time.perf_counter() - t0) * 1e3 / steps
    print(f"torch MLP {inp}-256-256-{classes}, batch {batch}, Adam(1e-3) on {device}: "
          f"loss {first:.4f} -> {last:.4f}; {ms:.3f} ms/step over {steps} timed steps "
          f"({1000 / ms:.0f} steps/s)", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--steps", type=int, default=100)
    args = p.parse_args()
    device = torch.device(args.device)
    print(f"torch {torch.__version__} (cuda {torch.version.cuda}) on {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
          flush=True)
    for name, part in (("matmul float32", lambda: matmul(device, torch.float32)),
                       ("matmul float16", lambda: matmul(device, torch.float16)),
                       ("mlp", lambda: mlp(device, args.steps))):
        try:
            part()
        except Exception as e:  # one failure must not hide the other figures
            print(f"torch {name} failed: {type(e).__name__}: {e}", flush=True)


if __name__ == "__main__":
    main()
