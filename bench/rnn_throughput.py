"""Training throughput of M: sequences/s and frames/s for the paper-size Doom M (Nz 64, A 1, Nh 512, K 5),
batch 100 x 500-frame chunks by default (499 input steps), one full train step (loss, gradients, element-wise
clip, Adam) as ``python -m rnn train`` runs it, on synthetic data.

Run it alone: ``flock /tmp/wm-heavy.lock python bench/rnn_throughput.py [--batch 100 --frames 500 --steps 3]``.

``--out FILE`` writes the output with the command and the host (bench/results/rnn_throughput.txt is quoted in the
README); ``bench/torch_twin.py`` measures PyTorch's fused LSTM on the same host. ``--form all`` times each form of
the step (rnn.train.STEP_FORMS; the probe picks one per host) in the same run.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from common.config import make_config  # noqa: E402  (common first: it sets oneDNN before TensorFlow loads)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from rnn.train import STEP_FORMS, Trainer, _synthetic_batch, step_form  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--experiment", default="doom", choices=["doom", "carracing"])
    p.add_argument("--batch", type=int, default=100, help="sequences per batch (paper 100)")
    p.add_argument("--frames", type=int, default=500, help="frames per sequence window (Doom chunk 500)")
    p.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    p.add_argument("--form", choices=("auto", "all", *STEP_FORMS), default="auto",
                   help="the train step's form: auto = the per-host speed probe's choice (as training), all = each")
    p.add_argument("--out", type=Path, help="also write the output to this file")
    args = p.parse_args()
    from bench.bench_output import Output

    out = Output(args.out)  # prints the command and the host: speed figures differ between hosts
    stateful = make_config(args.experiment, "paper").rnn.stateful  # Doom windows are the chunk, CarRacing's + 1
    cfg = make_config(args.experiment, "paper", {"rnn.batch_size": args.batch,
                                                 "rnn.sequence_length": args.frames - (0 if stateful else 1)})
    forms = [step_form(cfg)] if args.form == "auto" else list(STEP_FORMS) if args.form == "all" else [args.form]
    batch = _synthetic_batch(cfg, np.random.default_rng(0))
    device = "GPU" if tf.config.list_physical_devices("GPU") else f"CPU x{os.cpu_count()}"
    for form in forms:
        trainer = Trainer(cfg, form=form)
        t0 = time.perf_counter()
        float(trainer.train_step(batch, True)[0])
        compile_s = time.perf_counter() - t0
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            float(trainer.train_step(batch, False)[0])
            times.append(time.perf_counter() - t0)
        step_s = float(np.median(times))
        out.say(f"experiment={args.experiment} batch={args.batch} frames={args.frames} form={form} device={device}")
        out.say(f"  first step (trace+compile+run) {compile_s:.2f} s; median step {step_s:.3f} s over {args.steps}")
        out.say(f"  {args.batch / step_s:.2f} sequences/s, {args.batch * (args.frames - 1) / step_s:,.0f} frames/s")
    out.save()


if __name__ == "__main__":
    main()
