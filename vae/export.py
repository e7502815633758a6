"""V as a TensorFlow SavedModel that ``tf.saved_model.load`` alone serves (no Keras, no project code).

Endpoints:
    encode(frames float32 [None, 64, 64, 3] in [0, 1]) -> {"mu": [None, Nz], "logvar": [None, Nz]}
    decode(z float32 [None, Nz]) -> {"frames": [None, 64, 64, 3]}
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from common import atomic
from vae.model import FRAME_SHAPE, ConvVAE


def export_saved_model(model: ConvVAE, path: str | os.PathLike) -> Path:
    """Write ``model`` to the SavedModel folder ``path`` atomically (temp folder, then rename)."""
    path = Path(path)
    archive = keras.export.ExportArchive()
    archive.track(model)

    def encode(frames):
        mu, logvar = model.encoder(frames, training=False)
        return {"mu": mu, "logvar": logvar}

    def decode(z):
        return {"frames": model.decoder(z, training=False)}

    archive.add_endpoint("encode", encode, input_signature=[tf.TensorSpec((None, *FRAME_SHAPE), tf.float32)])
    archive.add_endpoint("decode", decode, input_signature=[tf.TensorSpec((None, model.z_size), tf.float32)])
    tmp = path.with_name(f".{path.name}{atomic.TMP_MARK}{os.getpid()}")
    old = path.with_name(f".{path.name}{atomic.TMP_MARK}old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    archive.write_out(str(tmp), verbose=False)
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)
    return path
