"""M as a TensorFlow SavedModel that serves without this project's code (``tf.saved_model.load`` alone).

Signatures:
- ``step``: inputs ``z`` [B, Nz], ``action`` [B, A], ``h``, ``c`` [B, Nh], ``temperature`` [] (τ), ``seed`` [2]
  int32 (stateless: the same seed gives the same sample), and for Doom ``restart`` [B] float (1 zeroes h and c
  before the step). Outputs ``z`` [B, Nz] (next z sampled as the authors: logits / τ, one component per
  dimension, std * sqrt(τ)), ``death_probability`` [B] (sigmoid of the death logit; zeros for CarRacing; done
  when > 0.5), ``h``, ``c`` (state after the step), and the untempered mixture ``logmix``, ``mean``, ``logstd``
  [B, Nz, K].
- ``initial_state``: input ``batch_size`` [] int32 -> ``h``, ``c`` zeros [B, Nh].
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import tensorflow as tf

from common import atomic
from rnn.model import MDNRNN, sample_mdn


class _Serving(tf.Module):
    def __init__(self, model: MDNRNN):
        super().__init__()
        self.model = model
        nz, na, nh = model.z_size, model.action_size, model.hidden_size
        spec = [tf.TensorSpec([None, nz], tf.float32, "z"), tf.TensorSpec([None, na], tf.float32, "action"),
                tf.TensorSpec([None, nh], tf.float32, "h"), tf.TensorSpec([None, nh], tf.float32, "c"),
                tf.TensorSpec([], tf.float32, "temperature"), tf.TensorSpec([2], tf.int32, "seed")]
        if model.predict_death:
            spec.append(tf.TensorSpec([None], tf.float32, "restart"))
            self.step = tf.function(self._step_doom, input_signature=spec)
        else:
            self.step = tf.function(self._step_car, input_signature=spec)
        self.initial_state = tf.function(self._initial_state,
                                         input_signature=[tf.TensorSpec([], tf.int32, "batch_size")])

    def _run(self, z, action, h, c, temperature, seed, restart):
        out, h, c = self.model.step(z, action, restart, h, c)
        z_next = sample_mdn(out, temperature, seed)
        if out.death_logit is not None:
            death = tf.sigmoid(out.death_logit)
        else:
            death = tf.zeros(tf.shape(z)[:1], tf.float32)
        return {"z": z_next, "death_probability": death, "h": h, "c": c,
                "logmix": out.logmix, "mean": out.mean, "logstd": out.logstd}

    def _step_car(self, z, action, h, c, temperature, seed):
        return self._run(z, action, h, c, temperature, seed, None)

    def _step_doom(self, z, action, h, c, temperature, seed, restart):
        return self._run(z, action, h, c, temperature, seed, restart)

    def _initial_state(self, batch_size):
        zeros = tf.zeros(tf.stack([batch_size, self.model.hidden_size]), tf.float32)
        return {"h": zeros, "c": zeros}


def export_saved_model(model: MDNRNN, path: str | os.PathLike) -> Path:
    """Write the SavedModel to ``path`` (written beside it, then renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{atomic.TMP_MARK}{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    module = _Serving(model)
    signatures = {"step": module.step.get_concrete_function(),
                  "initial_state": module.initial_state.get_concrete_function()}
    tf.saved_model.save(module, str(tmp), signatures=signatures)
    old = path.with_name(f".{path.name}.old{atomic.TMP_MARK}{os.getpid()}")
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    if old.exists():
        shutil.rmtree(old)
    return path
