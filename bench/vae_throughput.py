"""V throughput on this machine: training and encoding frames/s at batch 100, paper-size model, synthetic data.

    flock /tmp/wm-heavy.lock python bench/vae_throughput.py [--z-size 64] [--mode fast|plain]

``--mode plain`` is the straightforward version (no XLA, encode through the eager Keras model: the "before");
``--mode fast`` is what the project runs (the train step form the per-host speed probe chose, graph or XLA; the
graph encoder with uint8 input cast inside the compiled function). Warm-up steps (tracing, compilation) are
excluded. Numerics are the authors' in both modes. ``--out FILE`` writes the output with the command and the host
(bench/results/ holds the figures the README quotes); ``bench/torch_twin.py`` measures PyTorch on the same host.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--z-size", type=int, default=64, help="Nz (64 Doom, 32 CarRacing)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--mode", choices=("fast", "plain"), default="fast")
    parser.add_argument("--train-steps", type=int, default=12, help="timed training steps")
    parser.add_argument("--encode-steps", type=int, default=30, help="timed encoding batches")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0: TF default)")
    parser.add_argument("--train-jit", choices=("auto", "0", "1"), default=None,
                        help="XLA for the train step (default: plain auto, fast the project's choice)")
    parser.add_argument("--encode", choices=("eager", "graph", "xla"), default=None,
                        help="encoder path (default: plain eager, fast the project's choice)")
    parser.add_argument("--steps-per-execution", type=int, default=None)
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args()
    from bench.bench_output import Output

    out = Output(args.out)  # prints the command and the host: speed figures differ between hosts

    import numpy as np
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    from vae.encode import ENCODE_JIT, encode_frames, make_encoder_fn
    from vae.model import ConvVAE, make_optimizer
    from vae.train import STEPS_PER_EXECUTION, jit_setting

    fast = args.mode == "fast"
    train_jit = {"auto": "auto", "0": False, "1": True}[args.train_jit] if args.train_jit else (
        jit_setting(args.z_size, args.batch_size) if fast else "auto")
    encode_path = args.encode or (("xla" if ENCODE_JIT else "graph") if fast else "eager")
    steps_per_execution = args.steps_per_execution or (STEPS_PER_EXECUTION if fast else 1)
    rng = np.random.default_rng(0)
    frames_u8 = rng.integers(0, 256, (args.batch_size, 64, 64, 3), dtype=np.uint8)
    frames = tf.constant(frames_u8.astype(np.float32) / 255.0)
    model = ConvVAE(args.z_size)
    model.compile(optimizer=make_optimizer(), jit_compile=train_jit, steps_per_execution=steps_per_execution)
    dataset = tf.data.Dataset.from_tensors(frames).repeat()
    times: list[float] = []

    import keras

    class StepClock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            float(logs["loss"])  # wait for the step to finish
            times.append(time.perf_counter())

    spe = steps_per_execution
    model.fit(dataset, shuffle=False, steps_per_epoch=spe * (args.warmup + args.train_steps), epochs=1,
              verbose=0, callbacks=[StepClock()])
    timed = times[args.warmup:]  # one clock tick per execution of `spe` steps
    train_fps = spe * args.batch_size * (len(timed) - 1) / (timed[-1] - timed[0])

    if encode_path != "eager":
        encode_fn = make_encoder_fn(model, jit_compile=encode_path == "xla")

        def run_encode():
            return encode_frames(encode_fn, frames_u8, chunk=args.batch_size)
    else:
        def run_encode():
            mu, logvar = model.encoder(frames_u8.astype(np.float32) / 255.0)
            return np.asarray(mu), np.asarray(logvar)
    for _ in range(args.warmup):
        run_encode()
    t0 = time.perf_counter()
    for _ in range(args.encode_steps):
        run_encode()
    encode_fps = args.batch_size * args.encode_steps / (time.perf_counter() - t0)
    out.say(f"mode={args.mode} Nz={args.z_size} batch={args.batch_size} threads={args.threads or 'default'} "
            f"train_jit={train_jit} steps_per_execution={spe} encode={encode_path} cpus={os.cpu_count()}")
    out.say(f"train  frames/s: {train_fps:8.1f}")
    out.say(f"encode frames/s: {encode_fps:8.1f}")
    out.save()


if __name__ == "__main__":
    main()
