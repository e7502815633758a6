"""PyTorch twins of V's and M's training steps, for side-by-side throughput on the same host (bench only).

    pip install torch==2.13.0       # a CPU build from a local file; never a requirement of the project
    python bench/torch_twin.py [--part vae|rnn|both] [--out bench/results/torch_twin.txt]

V: the same ConvVAE (conv 32, 64, 128, 256 of 4x4 stride 2, relu; mu, logvar of Nz; dense 1024; deconv 128 k5,
64 k5, 32 k6, 3 k6 stride 2, sigmoid), the authors' loss (per-image sum of squared errors plus the per-image KL
floored at kl_tolerance * Nz, batch means), Adam lr 1e-4 eps 1e-8, batch 100 of 64x64x3 (channels first, as
PyTorch wants). M: ``nn.LSTM(Nz + A + 1, Nh)`` (PyTorch's fused cell: gate order and forget bias differ from the
authors', the cost does not) plus the MDN head Nh -> Nz*3K + 1 and the per-dimension mixture NLL plus the death
loss, element-wise clip, Adam; batch 100 of 499 steps (the paper-size Doom M). Synthetic data; warm-up excluded.
Prints frames/s (V) and sequences/s (M) with the host; exits 0 with a message when torch is absent.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_output import Output  # noqa: E402


def vae_fps(torch, z_size: int, batch: int, steps: int, warmup: int) -> float:
    nn = torch.nn

    class ConvVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(3, 32, 4, 2), nn.ReLU(), nn.Conv2d(32, 64, 4, 2), nn.ReLU(),
                                     nn.Conv2d(64, 128, 4, 2), nn.ReLU(), nn.Conv2d(128, 256, 4, 2), nn.ReLU(),
                                     nn.Flatten())
            self.mu, self.logvar = nn.Linear(1024, z_size), nn.Linear(1024, z_size)
            self.fc = nn.Linear(z_size, 1024)
            self.dec = nn.Sequential(nn.ConvTranspose2d(1024, 128, 5, 2), nn.ReLU(),
                                     nn.ConvTranspose2d(128, 64, 5, 2), nn.ReLU(),
                                     nn.ConvTranspose2d(64, 32, 6, 2), nn.ReLU(),
                                     nn.ConvTranspose2d(32, 3, 6, 2), nn.Sigmoid())

        def forward(self, x):
            h = self.enc(x)
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + torch.exp(logvar / 2) * torch.randn_like(mu)
            return self.dec(self.fc(z)[:, :, None, None]), mu, logvar

    model = ConvVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-8)
    x = torch.rand(batch, 3, 64, 64)
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        y, mu, logvar = model(x)
        rec = ((x - y) ** 2).sum(dim=(1, 2, 3)).mean()
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=1)
        loss = rec + torch.clamp(kl, min=0.5 * z_size).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return batch * len(times) / sum(times)


def rnn_sps(torch, z_size: int, hidden: int, batch: int, frames: int, steps: int, warmup: int) -> float:
    nn, k = torch.nn, 5
    lstm, head = nn.LSTM(z_size + 2, hidden, batch_first=True), nn.Linear(hidden, z_size * 3 * k + 1)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-8)
    x = torch.randn(batch, frames - 1, z_size + 2)
    target = torch.randn(batch, frames - 1, z_size)
    death = (torch.rand(batch, frames - 1) < 0.01).float()
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        h, _ = lstm(x)
        out = head(h)
        death_logit, out = out[..., 0], out[..., 1:].reshape(batch, frames - 1, z_size, 3 * k)
        logmix = torch.log_softmax(out[..., :k], -1)
        mean, logstd = out[..., k:2 * k], out[..., 2 * k:]
        normal = -0.5 * ((target[..., None] - mean) * torch.exp(-logstd)) ** 2 - logstd - 0.5 * math.log(2 * math.pi)
        z_loss = -torch.logsumexp(logmix + normal, -1).mean()
        weight = 1 + 9 * death
        death_loss = (nn.functional.binary_cross_entropy_with_logits(death_logit, death, reduction="none")
                      * weight).mean()
        opt.zero_grad()
        (z_loss + death_loss).backward()
        for p in params:
            p.grad.clamp_(-1.0, 1.0)
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return batch * len(times) / sum(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("vae", "rnn", "both"), default="both")
    parser.add_argument("--z-size", type=int, default=64, help="Nz (64 Doom, 32 CarRacing)")
    parser.add_argument("--vae-steps", type=int, default=12)
    parser.add_argument("--rnn-steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("torch is not installed (pip install torch==2.13.0); nothing measured")
        return
    out = Output(args.out)
    out.say(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.part in ("vae", "both"):
        out.say(f"torch V train frames/s (Nz {args.z_size}, batch 100): "
                f"{vae_fps(torch, args.z_size, 100, args.vae_steps, args.warmup):8.1f}")
    if args.part in ("rnn", "both"):
        sps = rnn_sps(torch, 64, 512, 100, 500, args.rnn_steps, 1)
        out.say(f"torch M train sequences/s (Doom M, batch 100 x 499 steps): {sps:6.2f}")
    out.save()


if __name__ == "__main__":
    main()
