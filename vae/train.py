"""`python -m vae train`: fit V on the streamed rollout frames, resumable, with a NaN guard.

Files in ``<run>/vae/``:
    backup/checkpoint.keras + backup/state.json   mid-training backup (model + Adam state; state.json, written
                                                  last, is the completion marker: epoch, step in epoch)
    model.keras                                   the trained V (Keras native)
    saved_model/                                  TF SavedModel with `encode` and `decode` (vae/export.py)
    tb/                                           TensorBoard: loss/*, epoch/*, reconstruction images
    reconstruction.png                            real frames over their reconstructions
    train_state.json                              {"complete": true, ...} once finished (fast exit on re-run)

Training runs one ``fit`` call per epoch (progress bar, compiled train step). Each epoch streams a deterministic
order (seed + epoch), so a run resumed at step k of an epoch skips exactly the k batches it already trained on.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from common import atomic
from common.config import Config, ConfigError
from common.run_layout import RunLayout
from common.timing import stage_timer
from envs.data import frame_dataset, scan_rollouts
from vae.export import export_saved_model
from vae.model import ConvVAE, build_vae, make_optimizer

EPOCH_SEED_STRIDE = 7919  # epoch e streams with seed + e * stride

STEPS_PER_EXECUTION = 1
PROBE_STEPS = 5  # timed train steps per candidate form (after 2 untimed ones)


def _train_rate(z_size: int, batch_size: int, jit_compile: bool) -> float:
    """Frames/s of V's train step at this size, compiled with or without XLA (synthetic frames)."""
    model = ConvVAE(z_size)
    model.compile(optimizer=make_optimizer(), jit_compile=jit_compile, steps_per_execution=1)
    x = np.random.default_rng(0).random((batch_size, 64, 64, 3)).astype(np.float32)
    for _ in range(2):
        model.train_on_batch(x)
    start = time.perf_counter()
    for _ in range(PROBE_STEPS):
        model.train_on_batch(x)
    return PROBE_STEPS * batch_size / (time.perf_counter() - start)


def jit_setting(z_size: int = 32, batch_size: int = 100) -> bool | str:
    """XLA for the train step, chosen by measurement on this host (``common.speed_probe``; cached): XLA was 3.5x
    faster than the graph path on an AVX2 host and slower on an AVX-512 one. With a GPU, Keras' "auto" (XLA).
    WM_VAE_JIT=1 / 0 forces it."""
    forced = {"1": True, "0": False}.get(os.environ.get("WM_VAE_JIT", ""))
    if forced is not None:
        return forced
    if tf.config.list_physical_devices("GPU"):
        return "auto"
    from common.speed_probe import fastest

    choice = fastest(f"vae_train_step Nz{z_size} batch{batch_size}",
                     {"graph": lambda: _train_rate(z_size, batch_size, False),
                      "xla": lambda: _train_rate(z_size, batch_size, True)})
    return choice == "xla"


def compile_vae(model: ConvVAE, optimizer: keras.optimizers.Optimizer, batch_size: int = 100) -> ConvVAE:
    model.compile(optimizer=optimizer, jit_compile=jit_setting(model.z_size, batch_size),
                  steps_per_execution=STEPS_PER_EXECUTION)
    return model


def new_vae(cfg: Config) -> ConvVAE:
    """A freshly initialised V, compiled with the authors' Adam; its weights depend on cfg.vae.seed only."""
    keras.utils.set_random_seed(cfg.vae.seed)
    return compile_vae(build_vae(cfg), make_optimizer(cfg.vae.learning_rate), cfg.vae.batch_size)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or inf; the last good checkpoint is kept."""


class Checkpointer(keras.callbacks.Callback):
    """Atomic backup every ``every`` global steps and at each epoch end; stops on a non-finite loss.

    A batch whose loss is NaN/inf is never saved: training stops, ``self.diverged`` says where, and the
    previous backup stays in place.
    """

    def __init__(self, backup_dir: Path, every: int, epoch: int, skip: int):
        super().__init__()
        self.backup_dir, self.every, self.epoch, self.skip = backup_dir, every, epoch, skip
        self.diverged: str | None = None
        self.steps_run = 0

    def save(self, epoch: int, step: int) -> None:
        atomic.save_keras(self.model, self.backup_dir / "checkpoint.keras")
        atomic.write_json(self.backup_dir / "state.json",
                          {"epoch": epoch, "step": step, "global_step": int(self.model.optimizer.iterations)})

    def on_train_batch_end(self, batch, logs=None):
        self.steps_run += 1
        loss = float((logs or {}).get("loss", 0.0))
        step = self.skip + batch + 1
        if not math.isfinite(loss):
            self.diverged = f"epoch {self.epoch + 1} step {step}"
            self.model.stop_training = True
            return
        if int(self.model.optimizer.iterations) % self.every == 0:
            self.save(self.epoch, step)

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged is None and math.isfinite(float((logs or {}).get("loss", 0.0))):
            self.save(epoch + 1, 0)


class TensorBoardLogger(keras.callbacks.Callback):
    """Scalars loss/{total,reconstruction,kl} (running epoch means) every ``every`` steps, per-epoch scalars and
    a reconstruction image (real frames over reconstructions) at each epoch end; steps are global steps."""

    def __init__(self, log_dir: Path, frames: np.ndarray, every: int = 50):
        super().__init__()
        self.writer = tf.summary.create_file_writer(str(log_dir))
        self.frames, self.every = frames, every

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations)
        if step % self.every == 0 and logs:
            with self.writer.as_default(step=step):
                for key, name in (("loss", "total"), ("reconstruction", "reconstruction"), ("kl", "kl")):
                    tf.summary.scalar(f"loss/{name}", float(logs[key]))

    def on_epoch_end(self, epoch, logs=None):
        step = int(self.model.optimizer.iterations)
        with self.writer.as_default(step=step):
            for key in ("loss", "reconstruction", "kl"):
                if logs and key in logs:
                    tf.summary.scalar(f"epoch/{key}", float(logs[key]))
            if len(self.frames):
                recon = self.model(self.frames, training=False)
                grid = tf.concat([self.frames, recon], axis=1)  # real above reconstruction
                tf.summary.image("reconstruction", grid, max_outputs=len(self.frames))
        self.writer.flush()


def _sample_frames(files: list[Path], count: int = 8) -> np.ndarray:
    """``count`` frames spread over the first file(s), float32 [count, 64, 64, 3] for figures and TensorBoard."""
    with np.load(files[0]) as data:
        obs = data["obs"]
    index = np.linspace(0, len(obs) - 1, num=min(count, len(obs))).astype(int)
    return obs[index].astype(np.float32) / 255.0


def _load_backup(backup_dir: Path, batch_size: int) -> tuple[ConvVAE, dict] | None:
    state_path = backup_dir / "state.json"
    if not state_path.exists() or not (backup_dir / "checkpoint.keras").exists():
        return None
    state = json.loads(state_path.read_text())
    model = keras.models.load_model(backup_dir / "checkpoint.keras")
    # Re-compile with the restored optimizer (its Adam moments and step count come back with the file).
    compile_vae(model, model.optimizer or make_optimizer(), batch_size)
    return model, state


def is_complete(cfg: Config, run_dir: Path) -> bool:
    """V finished cfg.vae.epochs and its SavedModel is exported. The Keras file (52 MB at Nz 32) is not asked for:
    a finished run copied without it (train_state.json and the SavedModel, what every later stage reads) is
    complete all the same; only more epochs (--vae.epochs raised) need it to continue."""
    layout = RunLayout(run_dir)
    state_path = layout.vae_train_state
    if not (state_path.exists() and layout.vae_saved_model.is_dir()):
        return False
    state = json.loads(state_path.read_text())
    return bool(state.get("complete")) and state.get("epochs", 0) >= cfg.vae.epochs


def train(cfg: Config, run_dir: str | os.PathLike, callbacks: tuple = (), verbose: int | str = "auto") -> dict:
    """Train V on ``<run>/rollouts`` for ``cfg.vae.epochs`` epochs (resuming a backup), then save and export.

    Args:
        cfg: the resolved config.
        run_dir: the run folder.
        callbacks: extra Keras callbacks (tests use one to interrupt the run).
        verbose: Keras ``fit`` verbosity (progress bar).
    Returns:
        the final train_state dict.
    Raises:
        TrainingDiverged: the loss became non-finite (the last good backup is kept).
        ConfigError: no rollouts, or fewer frames than one batch.
    """
    run_dir = Path(run_dir)
    if is_complete(cfg, run_dir):
        print(f"[vae] already trained: {RunLayout(run_dir).vae_model} (delete it to retrain)", flush=True)
        return json.loads(RunLayout(run_dir).vae_train_state.read_text())
    with stage_timer(run_dir, "vae_train"):
        return _train(cfg, run_dir, callbacks, verbose)


def _train(cfg: Config, run_dir: Path, callbacks: tuple, verbose) -> dict:
    layout = RunLayout(run_dir)
    out, rollouts, model_file = layout.vae_dir, layout.rollouts, layout.vae_model
    files, lengths = scan_rollouts(rollouts, cfg.env.action_size, cfg.vae.max_episodes)
    if not files:
        raise ConfigError(f"no valid rollouts in {rollouts}; run `python -m envs collect` first")
    frames = int(sum(lengths))
    steps_per_epoch = frames // cfg.vae.batch_size
    if steps_per_epoch == 0:
        raise ConfigError(f"{frames} frames is fewer than one batch of {cfg.vae.batch_size}; "
                          f"collect more or lower --vae.batch_size")
    backup_dir = layout.vae_backup
    atomic.remove_temp_files(backup_dir)
    atomic.remove_temp_files(out)
    restored = _load_backup(backup_dir, cfg.vae.batch_size)
    finished = RunLayout(run_dir).vae_train_state
    if restored is None and finished.exists() and model_file.exists():
        # A finished run asked for more epochs (--vae.epochs raised): continue from the saved model.
        done_epochs = int(json.loads(finished.read_text()).get("epochs", 0))
        model = keras.models.load_model(model_file)
        compile_vae(model, model.optimizer or make_optimizer(cfg.vae.learning_rate), cfg.vae.batch_size)
        state = {"epoch": done_epochs, "step": 0}
        print(f"[vae] continuing the finished run from epoch {done_epochs + 1}", flush=True)
    elif restored is None:
        model, state = new_vae(cfg), {"epoch": 0, "step": 0}
    else:
        model, state = restored
        print(f"[vae] resuming from {backup_dir}: epoch {state['epoch'] + 1}, step {state['step']} "
              f"(global step {state.get('global_step')})", flush=True)
    print(f"[vae] {len(files)} episodes, {frames} frames, {steps_per_epoch} steps/epoch x {cfg.vae.epochs} epochs, "
          f"Nz {cfg.vae.z_size}", flush=True)

    tb = TensorBoardLogger(layout.vae_tensorboard, _sample_frames(files))
    wall0 = time.monotonic()
    for epoch in range(state["epoch"], cfg.vae.epochs):
        skip = state["step"] if epoch == state["epoch"] else 0
        if skip >= steps_per_epoch:
            continue
        dataset = frame_dataset(rollouts, cfg.env.action_size, cfg.vae.batch_size, cfg.vae.shuffle_buffer,
                                seed=cfg.vae.seed + EPOCH_SEED_STRIDE * epoch, files=files)
        checkpointer = Checkpointer(backup_dir, cfg.vae.checkpoint_every, epoch, skip)
        model.fit(dataset.skip(skip).repeat(), epochs=epoch + 1, initial_epoch=epoch,
                  steps_per_epoch=steps_per_epoch - skip, shuffle=False, verbose=verbose,
                  callbacks=[checkpointer, tb, *callbacks])
        if checkpointer.diverged:
            raise TrainingDiverged(
                f"V's loss became NaN/inf at {checkpointer.diverged}; stopped. The last good checkpoint is kept in "
                f"{backup_dir} and the run resumes from it; lower --vae.learning_rate or check the rollouts.")
        if model.stop_training:  # stopped by another callback (e.g. an interrupt test)
            raise KeyboardInterrupt(f"training stopped during epoch {epoch + 1}")

    atomic.save_keras(model, model_file)
    from vae.figures import reconstruction_figure

    export_saved_model(model, layout.vae_saved_model)
    reconstruction_figure(run_dir, cfg, layout.vae_reconstruction)
    state = {"complete": True, "epochs": cfg.vae.epochs, "steps_per_epoch": steps_per_epoch, "frames": frames,
             "episodes": len(files), "global_step": int(model.optimizer.iterations),
             "wall_s_last_part": round(time.monotonic() - wall0, 2)}
    atomic.write_json(finished, state)
    for name in ("checkpoint.keras", "state.json"):
        (backup_dir / name).unlink(missing_ok=True)
    print(f"[vae] done: {model_file}, {layout.vae_saved_model}, {layout.vae_reconstruction}", flush=True)
    return state
