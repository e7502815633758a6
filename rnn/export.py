"""M as a TensorFlow SavedModel that serves without this project's code (``tf.saved_model.load`` alone).

Signatures:
- ``step``: inputs ``z`` [B, Nz], ``action`` [B, A], ``h``, ``c`` [B, Nh], ``temperature`` [] (τ), ``seed`` [2]
  int32 (stateless: the same seed gives the same sample), and for Doom ``restart`` [B] float (1 zeroes h and c
  before the step). Outputs ``z`` [B, Nz] (next z sampled as the authors: logits / τ, one component per
  dimension, std * sqrt(τ)), ``death_probability`` [B] (sigmoid of the death logit; zeros for CarRacing; done
  when > 0.5), ``h``, ``c`` (state after the step), and the untempered mixture ``logmix``, ``mean``, ``logstd``
  [B, Nz, K].
- ``initial_state``: input ``batch_size`` [] int32 -> ``h``, ``c`` zeros [B, Nh].

:func:`load_m` gives M for inference from either form (Keras file or SavedModel alone, as a committed result
folder ships it) with the same ``step`` method, so the dream, the agent and the viewers run from both.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import tensorflow as tf

import keras

from common import atomic
from common.config import ConfigError
from common.run_layout import RunLayout
from rnn.model import MDNOutput, MDNRNN, sample_mdn


def load_rnn(run_dir: str | os.PathLike) -> MDNRNN:
    """The Keras MDNRNN of ``<run>/rnn/model.keras`` (training, resume, the batched dream); ConfigError when
    it is missing."""
    path = RunLayout(run_dir).rnn_model
    if not path.exists():
        raise ConfigError(f"{path} not found: train M first (python -m rnn train --run-dir {run_dir})")
    return keras.models.load_model(path, compile=False)


class ServedRNN:
    """M from its SavedModel alone, with the inference API of :class:`rnn.model.MDNRNN` (``step``,
    ``initial_state`` and the size attributes). ``step`` returns the untempered MDNOutput; the death logit is
    recovered from the served probability (its sign, all the dream uses, is exact)."""

    def __init__(self, path: Path):
        self._served = tf.saved_model.load(str(path))
        spec = self._served.signatures["step"].structured_input_signature[1]
        self.z_size, self.action_size = int(spec["z"].shape[-1]), int(spec["action"].shape[-1])
        self.hidden_size = int(spec["h"].shape[-1])
        self.predict_death = "restart" in spec
        probe = self._call(tf.zeros([1, self.z_size]), tf.zeros([1, self.action_size]), None,
                           tf.zeros([1, self.hidden_size]), tf.zeros([1, self.hidden_size]))
        self.num_mixtures = int(probe["mean"].shape[-1])

    def _call(self, z, action, restart, h, c):
        extra = {}
        if self.predict_death:
            extra["restart"] = tf.zeros(tf.shape(z)[:1]) if restart is None else tf.cast(restart, tf.float32)
        return self._served.step(z=tf.cast(z, tf.float32), action=tf.cast(action, tf.float32),
                                 h=tf.cast(h, tf.float32), c=tf.cast(c, tf.float32),
                                 temperature=tf.constant(1.0), seed=tf.zeros([2], tf.int32), **extra)

    def initial_state(self, batch_size) -> tuple[tf.Tensor, tf.Tensor]:
        zeros = tf.zeros([batch_size, self.hidden_size], tf.float32)
        return zeros, zeros

    def step(self, z, action, restart, h, c):
        """As :meth:`rnn.model.MDNRNN.step`: -> (MDNOutput, h, c)."""
        out = self._call(z, action, restart, h, c)
        death = None
        if self.predict_death:
            p = tf.clip_by_value(out["death_probability"], 1e-7, 1 - 1e-7)
            death = tf.math.log(p) - tf.math.log1p(-p)
        return MDNOutput(out["logmix"], out["mean"], out["logstd"], death), out["h"], out["c"]


def has_rnn(run_dir: str | os.PathLike) -> bool:
    layout = RunLayout(run_dir)
    return layout.rnn_model.exists() or layout.rnn_saved_model.is_dir()


def load_m(run_dir: str | os.PathLike) -> MDNRNN | ServedRNN:
    """M for inference: the Keras file when the run has it, else the SavedModel (same numbers, tested)."""
    layout = RunLayout(run_dir)
    if layout.rnn_model.exists():
        return load_rnn(run_dir)
    if layout.rnn_saved_model.is_dir():
        return ServedRNN(layout.rnn_saved_model)
    raise ConfigError(f"{layout.rnn_dir} holds neither model.keras nor saved_model/: train M first "
                      f"(python -m rnn train --run-dir {run_dir})")


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
            self.step = tf.function(self._step_doom, input_signature=spec, autograph=False)
        else:
            self.step = tf.function(self._step_car, input_signature=spec, autograph=False)
        self.initial_state = tf.function(self._initial_state, autograph=False,
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
