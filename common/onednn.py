"""oneDNN for TensorFlow's CPU kernels on every x86 host, set before TensorFlow loads.

TensorFlow turns its oneDNN kernels on by default only on Linux CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX
(``DefaultOneDnnPolicy`` in tensorflow/core/util/util.cc). An AVX2-only host (an AMD EPYC of Zen 2 or 3, an Intel
CPU before Cascade Lake) gets Eigen's kernels instead, whose convolution gradients made V's train step several
times slower than PyTorch's on such a host; with oneDNN on, the same host runs the kernels PyTorch runs
(``bench/isa_paths.py`` measures both settings, emulating an AVX2 host by capping the instruction set;
bench/results/isa_paths.txt). On a host where TensorFlow already turns oneDNN on nothing changes.

The variable is read once, when TensorFlow's kernels start, so :func:`default_on` must run before TensorFlow is
imported: ``common/__init__.py`` calls it, and every package of the project imports ``common`` first. A value the
user set (``TF_ENABLE_ONEDNN_OPTS=0`` for Eigen's kernels) is kept.
"""
from __future__ import annotations

import os

VARIABLE = "TF_ENABLE_ONEDNN_OPTS"


def default_on() -> None:
    os.environ.setdefault(VARIABLE, "1")


def setting() -> str:
    """What this process asked TensorFlow for, for logs and speed-probe keys ("on", "off" or "TF's default")."""
    value = os.environ.get(VARIABLE, "").strip().lower()
    return {"1": "on", "true": "on", "0": "off", "false": "off"}.get(value, "TF's default")
