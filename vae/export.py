"""V on disk: the Keras file (training, resume) and a TensorFlow SavedModel that ``tf.saved_model.load`` alone
serves (no Keras, no project code), and the loaders that read either.

SavedModel endpoints:
    encode(frames float32 [None, 64, 64, 3] in [0, 1]) -> {"mu": [None, Nz], "logvar": [None, Nz]}
    decode(z float32 [None, Nz]) -> {"frames": [None, 64, 64, 3]}

:func:`load_v` gives V for inference from either form: a committed result folder ships only the SavedModel.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from common import atomic
from common.config import ConfigError
from common.run_layout import RunLayout
from vae.model import FRAME_SHAPE, ConvVAE


def load_vae(run_dir: str | os.PathLike) -> ConvVAE:
    """The Keras ConvVAE of ``<run>/vae/model.keras`` (training, resume); ConfigError when it is not there."""
    path = RunLayout(run_dir).vae_model
    if not path.exists():
        raise ConfigError(f"{path} not found: train V first with `python -m vae train --run-dir {run_dir}`")
    model = keras.models.load_model(path, compile=False)
    if not isinstance(model, ConvVAE):
        raise ConfigError(f"{path} does not hold a ConvVAE")
    return model


class ServedVAE:
    """V from its SavedModel alone, with the inference methods of :class:`vae.model.ConvVAE`."""

    def __init__(self, path: Path):
        self._served = tf.saved_model.load(str(path))
        self.z_size = self._z_size()

    def _z_size(self) -> int:
        spec = self._served.signatures["decode"].structured_input_signature[1]
        return int(next(iter(spec.values())).shape[-1])

    def encode(self, x):
        """x [B,64,64,3] in [0,1] -> (mu, logvar), each [B,Nz]."""
        out = self._served.encode(tf.convert_to_tensor(x, tf.float32))
        return out["mu"], out["logvar"]

    def decode(self, z):
        """z [B,Nz] -> frames [B,64,64,3] in [0,1]."""
        return self._served.decode(tf.convert_to_tensor(z, tf.float32))["frames"]


def has_vae(run_dir: str | os.PathLike) -> bool:
    layout = RunLayout(run_dir)
    return layout.vae_model.exists() or layout.vae_saved_model.is_dir()


def load_v(run_dir: str | os.PathLike) -> ConvVAE | ServedVAE:
    """V for inference (``encode``, ``decode``, ``z_size``): the Keras file when the run has it, else the
    SavedModel. Both give the same numbers (tests/test_agent.py)."""
    layout = RunLayout(run_dir)
    if layout.vae_model.exists():
        return load_vae(run_dir)
    if layout.vae_saved_model.is_dir():
        return ServedVAE(layout.vae_saved_model)
    raise ConfigError(f"{layout.vae_dir} holds neither model.keras nor saved_model/: train V first "
                      f"(python -m vae train --run-dir {run_dir})")


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
