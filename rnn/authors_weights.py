"""Load the authors' trained CarRacing M (``reports/reference/carracing_rnn.json``, a copy of ``shared/reference/``)
into :class:`MDNRNN`.

File format (shared/reference/README.md): a list of 4 integer arrays, value = integer / 10000, in the order
output_w [256, 480], output_b [480], LSTM kernel [291, 1024] (rows z, action, h; column blocks i, j, f, o),
LSTM bias [1024] (forget bias +1.0 not included). Our cell uses exactly this layout, so no reordering.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from rnn.model import MDNRNN

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "reports" / "reference" / "carracing_rnn.json"  # a copy


def read_authors_arrays(path: str | os.PathLike = DEFAULT_PATH) -> list[np.ndarray]:
    with open(path) as fh:
        raw = json.load(fh)
    if len(raw) != 4:
        raise ValueError(f"{path}: expected 4 arrays, got {len(raw)}")
    return [np.asarray(a, dtype=np.float64).astype(np.float32) / np.float32(10000.0) for a in raw]


def load_authors_carracing_rnn(path: str | os.PathLike = DEFAULT_PATH) -> MDNRNN:
    """A CarRacing MDNRNN (Nz 32, A 3, Nh 256, K 5) holding the authors' weights."""
    output_w, output_b, kernel, bias = read_authors_arrays(path)
    model = MDNRNN(32, 3, 256, 5, predict_death=False)
    expected = {"lstm_kernel": kernel, "lstm_bias": bias, "output_w": output_w, "output_b": output_b}
    for name, value in expected.items():
        var = getattr(model, name)
        if tuple(var.shape) != value.shape:
            raise ValueError(f"{path}: {name} has shape {value.shape}, expected {tuple(var.shape)}")
        var.assign(value)
    return model
