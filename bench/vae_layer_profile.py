"""Where V's train step goes, layer by layer, and how close each layer runs to the host's matmul rate.

    flock /tmp/wm-heavy.lock python bench/vae_layer_profile.py [--out bench/results/vae_layer_profile.txt]
    ONEDNN_MAX_CPU_ISA=AVX2 XLA_FLAGS=--xla_cpu_max_isa=AVX2 python bench/vae_layer_profile.py   # the AVX2 code paths

Each layer of the paper-size ConvVAE (Nz 64) runs alone at batch 100 in a ``tf.function`` (graph mode, as V's step
when the speed probe picks graph): its forward pass and the gradients the train step needs (the weights', and the
input's except for the first layer, whose input is the data). Its FLOPs are counted from the shapes (2 per
multiply-add; forward, input gradient and weight gradient each cost the same), so GFLOP/s says how much of the
layer is arithmetic and how much is overhead. The yardstick is the host's fp32 matmul ([1024, 1024] x [1024, 1024],
TensorFlow's op) and the whole train step (``ConvVAE.train_step`` compiled by Keras in graph mode, the form
``bench/vae_throughput.py --train-jit 0`` times) in the same run.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_output import Output  # noqa: E402


def multiply_adds(layer, input_shape, output_shape) -> int:
    """Multiply-adds of one sample's forward pass through a Dense, Conv2D or Conv2DTranspose layer."""
    kernel = layer.kernel.shape
    if len(kernel) == 2:  # Dense: [in, out]
        return int(kernel[0]) * int(kernel[1])
    kh, kw = int(kernel[0]), int(kernel[1])
    if layer.__class__.__name__ == "Conv2D":  # kernel [kh, kw, in, out]: every output sees kh * kw * in inputs
        return int(output_shape[1] * output_shape[2] * output_shape[3]) * kh * kw * int(kernel[2])
    # Conv2DTranspose, kernel [kh, kw, out, in]: every input spreads into kh * kw * out outputs
    return int(input_shape[1] * input_shape[2] * input_shape[3]) * kh * kw * int(kernel[2])


def time_ms(fn, repeats: int) -> float:
    fn()
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--z-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per layer (after two warm-up calls)")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.repeats < 1:
        parser.error("--batch and --repeats must be >= 1")
    out = Output(args.out)
    import numpy as np
    import tensorflow as tf

    from bench.host_matmul import matmul_gflops
    from vae.model import ConvVAE, make_optimizer

    model = ConvVAE(args.z_size)
    frames = tf.random.uniform([args.batch, 64, 64, 3], seed=0)
    # Each layer's input: the encoder's from the frames, the decoder's from a random z.
    inputs, first = {}, model.encoder.layers[1].name
    h = frames
    for layer in model.encoder.layers[1:]:
        inputs[layer.name] = h
        if not layer.name.startswith("enc_fc"):
            h = layer(h)
    h = tf.random.normal([args.batch, args.z_size], seed=1)
    for layer in model.decoder.layers[1:]:
        inputs[layer.name] = h
        h = layer(h)

    out.say(f"V: Nz {args.z_size}, batch {args.batch}; each layer alone in graph mode, forward + the train step's "
            f"gradients; median of 3 runs of {args.repeats} calls")
    total_ms = total_gflop = 0.0
    for layer in model.encoder.layers[1:] + model.decoder.layers[1:]:
        if not layer.trainable_weights:
            continue
        x = inputs[layer.name]
        needs_input_grad = layer.name != first

        @tf.function(autograph=False)
        def step(x=x, layer=layer, needs_input_grad=needs_input_grad):
            with tf.GradientTape() as tape:
                if needs_input_grad:
                    tape.watch(x)
                y = layer(x)
                loss = tf.reduce_sum(y * y)
            sources = ([x] if needs_input_grad else []) + layer.trainable_weights
            return [tf.reduce_sum(g) for g in tape.gradient(loss, sources)]

        output_shape = layer.compute_output_shape(x.shape)
        passes = 3 if needs_input_grad else 2
        gflop = 2 * multiply_adds(layer, x.shape, output_shape) * args.batch * passes / 1e9
        ms = float(np.median([time_ms(step, args.repeats) for _ in range(3)]))
        total_ms += ms
        total_gflop += gflop
        out.say(f"  {layer.name:15s} {str(tuple(x.shape)):20s} {ms:7.2f} ms  {gflop:6.3f} GFLOP  "
                f"{gflop / ms * 1e3:6.1f} GFLOP/s")
    out.say(f"  layers alone, summed: {total_ms:.2f} ms, {total_gflop:.3f} GFLOP, {total_gflop / total_ms * 1e3:.1f} "
            f"GFLOP/s")

    model.compile(optimizer=make_optimizer(), jit_compile=False)
    data = tf.data.Dataset.from_tensors(frames).repeat()
    model.fit(data, steps_per_epoch=3, verbose=0, shuffle=False)
    steps = max(args.repeats, 10)
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, verbose=0, shuffle=False)
    step_ms = (time.perf_counter() - start) / steps * 1e3
    out.say(f"whole train step (graph): {step_ms:.1f} ms, {args.batch / step_ms * 1e3:.1f} frames/s, "
            f"{total_gflop / step_ms * 1e3:.1f} GFLOP/s of the layers' arithmetic")
    out.say(f"host fp32 matmul [1024, 1024] x [1024, 1024] (TensorFlow's op): {matmul_gflops(1024, 1024, 1024):.1f} "
            f"GFLOP/s")
    out.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
