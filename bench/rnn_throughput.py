"""Training throughput of M: sequences/s and frames/s for the paper-size Doom M (Nz 64, A 1, Nh 512, K 5),
batch 100 x 500-frame chunks by default (499 input steps), one full train step (loss, gradients, element-wise
clip, Adam) as ``python -m rnn train`` runs it, on synthetic data.

Run it alone: ``flock /tmp/wm-heavy.lock python bench/rnn_throughput.py [--batch 100 --frames 500 --steps 3]``.

Measured 2026-11-25 on the 2-core dev VM (x86_64, TF 2.21 CPU), nothing else running: batch 100, 17.4
sequences/s (5.76 s per step, 8,660 frames/s); batch 32 (the small preset), 11.8 sequences/s (2.72 s per step).
``--jit`` does not compile on this TF (the while-loop gradient accumulators are not XLA-convertible).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from common.config import make_config  # noqa: E402
from rnn.train import Trainer  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--experiment", default="doom", choices=["doom", "carracing"])
    p.add_argument("--batch", type=int, default=100, help="sequences per batch (paper 100)")
    p.add_argument("--frames", type=int, default=500, help="frames per sequence window (Doom chunk 500)")
    p.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    p.add_argument("--jit", action="store_true", help="XLA-compile the train step")
    p.add_argument("--out", type=Path, help="also write the output to this file")
    args = p.parse_args()
    from bench.bench_output import Output

    out = Output(args.out)  # prints the command and the host: speed figures differ between hosts
    cfg = make_config(args.experiment, "paper", {"rnn.batch_size": args.batch})
    trainer = Trainer(cfg, jit_compile=args.jit)
    rng = np.random.default_rng(0)
    nz, na = cfg.vae.z_size, cfg.env.action_size
    restart = np.zeros((args.batch, args.frames), np.float32)
    restart[:, ::137] = 1.0
    batch = {"mu": rng.normal(size=(args.batch, args.frames, nz)).astype(np.float32),
             "logvar": np.full((args.batch, args.frames, nz), -2.0, np.float32),
             "action": rng.uniform(-1, 1, (args.batch, args.frames, na)).astype(np.float32),
             "restart": restart, "mask": np.ones((args.batch, args.frames), np.float32)}
    t0 = time.perf_counter()
    float(trainer.train_step(batch, True)[0])
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        float(trainer.train_step(batch, False)[0])
        times.append(time.perf_counter() - t0)
    step_s = float(np.median(times))
    device = "GPU" if tf.config.list_physical_devices("GPU") else f"CPU x{os.cpu_count()}"
    out.say(f"experiment={args.experiment} batch={args.batch} frames={args.frames} jit={args.jit} device={device}")
    out.say(f"first step (trace+compile+run) {compile_s:.2f} s; median step {step_s:.3f} s over {args.steps}")
    out.say(f"{args.batch / step_s:.2f} sequences/s, {args.batch * (args.frames - 1) / step_s:,.0f} frames/s")
    out.save()


if __name__ == "__main__":
    main()
