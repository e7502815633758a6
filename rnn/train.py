"""``python -m rnn train``: train M on the latent series as the authors (ORIGINAL-SPEC-DETAILED §4.4-4.6).

Loss: z loss = mean over every (row, step, latent dim) of the per-dim mixture NLL (padded CarRacing frames
excluded, see rnn.data); Doom adds the death loss: sigmoid cross-entropy of the death logit against the NEXT
frame's restart flag, positives weighted ``death_weight`` (10), mean over rows and steps. Total = z + death.
Adam (epsilon 1e-8 as TF1) with lr = (lr0 - min) * decay**step + min; gradients clipped element-wise to
[-grad_clip, grad_clip]. z = mu + exp(logvar/2) eps re-sampled for every batch (stateless, seeded by
(seed, step), so a resumed run draws the same noise).

Files in ``<run>/rnn/``: ``backup/`` (tf.train checkpoint: weights, Adam state, step, carried LSTM state),
``history.csv`` (step, epoch, loss, z_loss, death_loss, lr; rewritten atomically at each backup, so after a
kill it never holds steps past the backup), ``tb/`` (TensorBoard), and at the end ``model.keras``,
``saved_model/`` and ``done.json`` (a later run exits at once).

NaN guard: a step whose loss or gradients are not finite is not applied (weights, Adam state unchanged);
``MAX_BAD_STEPS`` such steps in a row stop training with an error (resume from the last backup).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common import atomic
from common.config import Config
from common.run_layout import RunLayout
from common.timing import stage_timer
from rnn.data import RandomEpisodeBatches, StreamBatches, scan_series
from rnn.export import export_saved_model
from rnn.model import MDNRNN, build_mdnrnn, mdn_nll

HISTORY_FIELDS = ("step", "epoch", "loss", "z_loss", "death_loss", "lr")
MAX_BAD_STEPS = 20
ADAM_EPSILON = 1e-8


def learning_rate(cfg_rnn, step):
    """lr = (lr0 - min) * decay**step + min (step = updates done before this one)."""
    return (cfg_rnn.learning_rate - cfg_rnn.min_learning_rate) * cfg_rnn.decay_rate ** step \
        + cfg_rnn.min_learning_rate


def training_noise(mu, seed):
    """eps of z = mu + exp(logvar/2) eps for one batch, from (seed, step). Drawn outside any XLA cluster: XLA's
    stateless normal gives other numbers for the same seed, and the step's two forms must draw the same noise."""
    return tf.random.stateless_normal(tf.shape(mu), seed=seed)


def head_losses(model: MDNRNN, head_out, z_target, restart_target, valid, death_weight: float):
    """(total, z_loss, death_loss) of M's head output on every step, ``head_out`` = model.head_matmul(h) [T, B,
    Nz*3K (+1)], against the next z [T, B, Nz] (and, Doom, the next restart flag [T, B]); ``valid`` [T, B] masks
    padded steps (batch-major [B, T, ...] works the same: every loss is a mean over steps and rows). Element-wise
    work over [T, B, Nz, K] tensors that the graph runs op by op: the part the "xla_loss" form compiles
    (:class:`Trainer`); the head's matmul before it runs faster in oneDNN than in XLA."""
    out = model.mdn_split(head_out)
    count = tf.maximum(tf.reduce_sum(valid), 1.0)
    nll = mdn_nll(out.logmix, out.mean, out.logstd, z_target)            # [B, T, Nz]
    z_loss = tf.reduce_sum(tf.reduce_mean(nll, axis=-1) * valid) / count
    death_loss = tf.constant(0.0)
    if model.predict_death:
        bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=restart_target, logits=out.death_logit)
        weight = 1.0 + restart_target * (death_weight - 1.0)
        death_loss = tf.reduce_sum(weight * bce * valid) / count
    return z_loss + death_loss, z_loss, death_loss


def compute_losses(model: MDNRNN, mu, logvar, action, restart, mask, h0, c0, seed, death_weight: float, eps=None,
                   losses=None):
    """(total, z_loss, death_loss, h, c) for a batch window [B, F, ...]: inputs frames 0..F-2, targets 1..F-1.
    ``eps``: the batch's noise (default: :func:`training_noise` of ``seed``); ``losses``: :func:`head_losses`
    or a compiled form of it, called as ``losses(h_all, z_target, restart_target, valid)``."""
    eps = training_noise(mu, seed) if eps is None else eps
    z = mu + tf.exp(logvar / 2.0) * eps
    restart_in, restart_target = (restart[:, :-1], restart[:, 1:]) if model.predict_death else (None, None)
    h_all, h, c = model.hidden(z[:, :-1], action[:, :-1], restart_in, h0, c0, time_major=True)  # [T, B, Nh]
    if losses is None:
        def losses(*args):
            return head_losses(model, *args, death_weight)

    def time_major(x):  # the targets follow h_all's layout (the losses are means over every step and row)
        return None if x is None else tf.transpose(x, [1, 0, *range(2, x.shape.rank)])

    total, z_loss, death_loss = losses(model.head_matmul(h_all), time_major(z[:, 1:]), time_major(restart_target),
                                       time_major(mask[:, 1:]))
    return total, z_loss, death_loss, h, c


def _synthetic_batch(cfg: Config, rng: np.random.Generator) -> dict:
    """A batch shaped as training's (rows, window frames, Nz / A), for timing the train step."""
    r, nz, na = cfg.rnn, cfg.vae.z_size, cfg.env.action_size
    frames = r.sequence_length + (0 if r.stateful else 1)  # Doom streams chunks; CarRacing adds the last target
    restart = np.zeros((r.batch_size, frames), np.float32)
    restart[:, ::137] = 1.0
    return {"mu": rng.normal(size=(r.batch_size, frames, nz)).astype(np.float32),
            "logvar": np.full((r.batch_size, frames, nz), -2.0, np.float32),
            "action": rng.uniform(-1, 1, (r.batch_size, frames, na)).astype(np.float32),
            "restart": restart, "mask": np.ones((r.batch_size, frames), np.float32)}


def _train_rate(cfg: Config, form: str) -> float:
    """Sequences/s of M's train step in one of ``STEP_FORMS`` at the run's sizes (one untimed step, two timed)."""
    trainer = Trainer(cfg, form=form)
    batch = _synthetic_batch(cfg, np.random.default_rng(0))
    float(trainer.train_step(batch, True)[0])
    start = time.perf_counter()
    for _ in range(2):
        float(trainer.train_step(batch, False)[0])
    return 2 * cfg.rnn.batch_size / (time.perf_counter() - start)


# M's train step: "graph" (tf.function), "xla" (the whole update compiled: the LSTM loop too), "xla_loss" (the
# LSTM loop in the graph, the head and the losses compiled; it fuses their element-wise work, which the graph
# runs op by op over [B, T, Nz, K] tensors). bench/results/rnn_throughput.txt has the rates on one host.
STEP_FORMS = ("graph", "xla", "xla_loss")


def step_form(cfg: Config) -> str:
    """The fastest of ``STEP_FORMS`` for M's train step on this host, chosen by measurement
    (``common.speed_probe``, cached). WM_RNN_FORM=graph|xla|xla_loss forces one."""
    forced = os.environ.get("WM_RNN_FORM", "")
    if forced:
        if forced not in STEP_FORMS:
            raise ValueError(f"WM_RNN_FORM must be one of {', '.join(STEP_FORMS)}, got {forced!r}")
        return forced
    from common.speed_probe import fastest

    r = cfg.rnn
    name = (f"rnn_train_step Nz{cfg.vae.z_size} A{cfg.env.action_size} Nh{r.hidden_size} batch{r.batch_size} "
            f"len{r.sequence_length}")
    return fastest(name, {form: (lambda form=form: _train_rate(cfg, form)) for form in STEP_FORMS})


class Trainer:
    """Model, optimizer, carried state and the compiled train step; checkpointed as one tf.train.Checkpoint."""

    def __init__(self, cfg: Config, form: str = "graph"):
        if form not in STEP_FORMS:
            raise ValueError(f"M's train step form must be one of {STEP_FORMS}, got {form!r}")
        self.cfg, self.form = cfg, form
        r = cfg.rnn
        self.model = build_mdnrnn(cfg)
        self.optimizer = keras.optimizers.Adam(learning_rate=r.learning_rate, epsilon=ADAM_EPSILON)
        self.optimizer.build(self.model.trainable_variables)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        shape = (r.batch_size, r.hidden_size)
        self.h = tf.Variable(tf.zeros(shape), trainable=False, name="carry_h")
        self.c = tf.Variable(tf.zeros(shape), trainable=False, name="carry_c")
        self.checkpoint = tf.train.Checkpoint(model=self.model, optimizer=self.optimizer, step=self.step,
                                              h=self.h, c=self.c)
        # The update is the part XLA may compile (``step_form``); the noise is drawn outside it.
        self._update = tf.function(self._update_impl, jit_compile=form == "xla", reduce_retracing=True,
                                   autograph=False)
        self._losses = None  # "graph" / "xla": head_losses, traced into the update
        if form == "xla_loss":
            self._losses = tf.function(lambda *args: head_losses(self.model, *args, r.death_weight),
                                       jit_compile=True, reduce_retracing=True, autograph=False)
        self._train_step = tf.function(self._step_impl, reduce_retracing=True, autograph=False)

    def _step_impl(self, mu, logvar, action, restart, mask, reset_state):
        seed = tf.stack([tf.constant(self.cfg.rnn.seed, tf.int64), self.step.read_value()])
        eps = training_noise(mu, tf.cast(seed % (2 ** 31 - 1), tf.int32))
        return self._update(mu, logvar, eps, action, restart, mask, reset_state)

    def _update_impl(self, mu, logvar, eps, action, restart, mask, reset_state):
        r = self.cfg.rnn
        step = self.step.read_value()
        h0 = tf.where(reset_state, tf.zeros_like(self.h), self.h)
        c0 = tf.where(reset_state, tf.zeros_like(self.c), self.c)
        with tf.GradientTape() as tape:
            loss, z_loss, death_loss, h, c = compute_losses(self.model, mu, logvar, action, restart, mask,
                                                            h0, c0, None, r.death_weight, eps=eps,
                                                            losses=self._losses)
        variables = self.model.trainable_variables
        grads = tape.gradient(loss, variables)
        finite = tf.math.is_finite(loss)
        for g in grads:
            finite = tf.logical_and(finite, tf.reduce_all(tf.math.is_finite(g)))
        lr = (r.learning_rate - r.min_learning_rate) * tf.pow(tf.constant(r.decay_rate, tf.float64),
                                                               tf.cast(step, tf.float64)) + r.min_learning_rate
        lr = tf.cast(lr, tf.float32)

        def apply():
            self.optimizer.learning_rate.assign(lr)
            clipped = [tf.clip_by_value(g, -r.grad_clip, r.grad_clip) for g in grads]
            self.optimizer.apply_gradients(zip(clipped, variables))
            self.h.assign(h)
            self.c.assign(c)
            return tf.constant(True)

        def skip():  # NaN guard: leave weights, Adam state and the carried LSTM state as they were
            return tf.constant(False)

        applied = tf.cond(finite, apply, skip)
        self.step.assign_add(1)  # the batch is consumed either way (a skipped batch is not retried)
        return loss, z_loss, death_loss, lr, applied

    def train_step(self, batch: dict, reset_state: bool):
        return self._train_step(tf.constant(batch["mu"]), tf.constant(batch["logvar"]),
                                tf.constant(batch["action"]), tf.constant(batch["restart"]),
                                tf.constant(batch["mask"]), tf.constant(reset_state))


# ---------------------------------------------------------------------------------------------- files
def _read_history(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _write_history(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic.write_text(path, buf.getvalue())


def is_complete(cfg: Config, run_dir: str | os.PathLike) -> bool:
    """M's training finished (done.json beside the model): a later ``train`` exits at once."""
    layout = RunLayout(run_dir)
    return layout.rnn_done.exists() and layout.rnn_model.exists()


def train(cfg: Config, run_dir: str | os.PathLike, stop_after: int | None = None, progress: bool = True,
          export: bool = True) -> dict:
    """Train (or resume) M in ``run_dir``, backing up every ``rnn.checkpoint_every`` steps or
    ``rnn.checkpoint_seconds``; returns a summary dict. ``stop_after`` N: stop after N steps of this call (for
    tests of resume), leaving a backup as a kill would."""
    run_dir = Path(run_dir)
    layout = RunLayout(run_dir)
    out_dir, done_path, model_file = layout.rnn_dir, layout.rnn_done, layout.rnn_model
    if is_complete(cfg, run_dir):
        info = json.loads(done_path.read_text())
        print(f"M already trained ({info.get('steps')} steps) in {out_dir}; nothing to do", flush=True)
        return info
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic.remove_temp_files(out_dir)
    r = cfg.rnn
    with stage_timer(run_dir, "rnn_train"):
        files, lengths = scan_series(layout.series, cfg.vae.z_size, cfg.env.action_size)
        if r.stateful:
            data = StreamBatches(files, lengths, cfg.vae.z_size, cfg.env.action_size, r.batch_size,
                                 r.sequence_length, r.seed)
            bpe = data.batches_per_epoch
        else:
            data = RandomEpisodeBatches(files, lengths, cfg.vae.z_size, cfg.env.action_size, r.batch_size,
                                        r.sequence_length, r.seed)
            bpe = max(1, len(files) // r.batch_size)
        steps = r.steps if r.steps > 0 else r.epochs * bpe

        trainer = Trainer(cfg, form=step_form(cfg))
        manager = tf.train.CheckpointManager(trainer.checkpoint, str(layout.rnn_backup), max_to_keep=2)
        if manager.latest_checkpoint:
            trainer.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
            print(f"resuming M from step {int(trainer.step.numpy())} ({manager.latest_checkpoint})", flush=True)
        start = int(trainer.step.numpy())
        history_path = layout.rnn_history
        history = [row for row in _read_history(history_path) if int(row["step"]) <= start]
        writer = tf.summary.create_file_writer(str(layout.rnn_tensorboard))

        def batch_for(step: int):
            if r.stateful:
                return data.batch(step // bpe, step % bpe)
            return data.batch(step)

        def save_backup():
            manager.save(checkpoint_number=int(trainer.step.numpy()))
            _write_history(history_path, history)

        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=steps, initial=start, desc="rnn train", unit="step", dynamic_ncols=True,
                       file=sys.stderr)
        pool = ThreadPoolExecutor(max_workers=1)
        pending = pool.submit(batch_for, start) if start < steps else None
        last_save, bad, done_now = time.monotonic(), 0, 0
        try:
            step = start
            while step < steps:
                batch = pending.result()
                reset = (not r.stateful) or step % bpe == 0
                loss, z_loss, death_loss, lr, applied = trainer.train_step(batch, reset)
                if not bool(applied):
                    bad += 1
                    print(f"warning: non-finite loss or gradient at step {step}; update skipped ({bad} in a row)",
                          file=sys.stderr, flush=True)
                    if bad >= MAX_BAD_STEPS:
                        raise RuntimeError(f"M training diverged: {bad} non-finite steps in a row at step {step}; "
                                           f"resume from the last backup with a lower --rnn.learning_rate")
                else:
                    bad = 0
                step += 1
                pending = pool.submit(batch_for, step) if step < steps else None
                row = {"step": step, "epoch": (step - 1) // bpe, "loss": float(loss), "z_loss": float(z_loss),
                       "death_loss": float(death_loss), "lr": float(lr)}
                history.append(row)
                with writer.as_default(step=step):
                    for key in ("loss", "z_loss", "death_loss", "lr"):
                        tf.summary.scalar(key, row[key])
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{row['loss']:.4f}", z=f"{row['z_loss']:.4f}",
                                    death=f"{row['death_loss']:.4f}")
                done_now += 1
                if (step % r.checkpoint_every == 0 or time.monotonic() - last_save > r.checkpoint_seconds
                        or step == steps or (stop_after is not None and done_now >= stop_after)):
                    save_backup()
                    last_save = time.monotonic()
                if stop_after is not None and done_now >= stop_after and step < steps:
                    return {"stopped_at": step}
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if bar is not None:
                bar.close()
            writer.flush()
        atomic.save_keras(trainer.model, model_file)
        if export:
            export_saved_model(trainer.model, layout.rnn_saved_model)
        last = history[-1] if history else {}
        info = {"steps": steps, "final_loss": float(last.get("loss", math.nan)),
                "final_z_loss": float(last.get("z_loss", math.nan)),
                "final_death_loss": float(last.get("death_loss", math.nan))}
        atomic.write_json(done_path, info)
        print(f"M trained: {steps} steps, final loss {info['final_loss']:.4f}; saved {model_file}",
              flush=True)
        return info
