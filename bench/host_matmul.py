"""The host's fp32 matmul rate at a given shape: the yardstick the dream benches compare their rates with."""
from __future__ import annotations

import time


def matmul_gflops(rows: int, inner: int, cols: int, jit_compile: bool = False, reps: int = 50) -> float:
    """GFLOP/s of ``[rows, inner] x [inner, cols]`` in fp32, as a TensorFlow op (oneDNN) or compiled by XLA."""
    import tensorflow as tf

    a, w = tf.random.normal([rows, inner]), tf.random.normal([inner, cols])
    matmul = tf.function(tf.matmul, jit_compile=jit_compile)
    matmul(a, w).numpy()
    start = time.perf_counter()
    for _ in range(reps):
        product = matmul(a, w)
    product.numpy()
    return reps * 2 * rows * inner * cols / (time.perf_counter() - start) / 1e9
