"""Compute threads of worker processes, set in one place.

Real-environment rollouts and collection run one process per core; each process must then compute on one thread,
or N processes start N x cores threads and slow each other down. The environment variables must be set before
NumPy's BLAS or TensorFlow start in that process; :func:`set_tf_threads` covers a process where TF is loaded.
"""
from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS")


def single_threaded_workers(force: bool = True) -> None:
    """One compute thread for this process and the processes it starts (read by BLAS and TF at start-up);
    ``force=False`` keeps a value the user set."""
    for var in THREAD_VARIABLES:
        if force or var not in os.environ:
            os.environ[var] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # rollouts are batch-1 work: CPU beats a GPU round trip


def set_tf_threads(threads: int) -> None:
    """TensorFlow's intra- and inter-op thread pools; a no-op once TF has started computing in this process."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialised in this process
        pass
