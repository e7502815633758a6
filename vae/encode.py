"""`python -m vae encode`: every valid rollout -> ``<run>/series/episode_NNNNNN.npz`` (mu, logvar, action, done).

As the authors' `series.py` (ORIGINAL-SPEC-DETAILED section 3) we store V's posterior (mu, logvar), not z, so M's
training can re-sample z = mu + exp(logvar/2) * eps for every batch; unlike them we keep float32 and the done flags.
Also writes ``<run>/series/initial_z.npz``: mu and logvar of frame 0 of the first min(1000, N) episodes (the
authors' initial_z, where the Doom dream starts).

Inference runs in fixed-size chunks through one compiled function (the last chunk is padded), so every chunk
reuses the same XLA program. Resumable: a series file that exists and loads is not recomputed.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from common import atomic
from common.config import Config, ConfigError
from common.timing import stage_timer
from envs import episodes
from envs.data import valid_episode_files
from vae.model import FRAME_SHAPE, ConvVAE, load_vae

INITIAL_Z_EPISODES = 1000
ENCODE_CHUNK = 200  # frames per compiled call (bench/vae_throughput.py)
ENCODE_JIT = False  # XLA for the encoder: measured no faster than the oneDNN graph on a 2-core CPU


def make_encoder_fn(model: ConvVAE, jit_compile: bool = True):
    """Compiled uint8 frames [ENCODE_CHUNK, 64, 64, 3] -> (mu, logvar) float32 [ENCODE_CHUNK, Nz]."""

    @tf.function(jit_compile=jit_compile, reduce_retracing=True,
                 input_signature=[tf.TensorSpec((None, *FRAME_SHAPE), tf.uint8)])
    def encode(frames):
        mu, logvar = model.encoder(tf.cast(frames, tf.float32) / 255.0, training=False)
        return mu, logvar

    return encode


def encode_frames(encode_fn, obs: np.ndarray, chunk: int = ENCODE_CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Encode uint8 frames [T, 64, 64, 3] in fixed chunks (last one zero-padded); return mu, logvar [T, Nz]."""
    mus, logvars = [], []
    for start in range(0, len(obs), chunk):
        part = obs[start:start + chunk]
        if len(part) < chunk:
            part = np.concatenate([part, np.zeros((chunk - len(part), *FRAME_SHAPE), np.uint8)])
        mu, logvar = encode_fn(part)
        n = min(chunk, len(obs) - start)
        mus.append(mu.numpy()[:n])
        logvars.append(logvar.numpy()[:n])
    return np.concatenate(mus), np.concatenate(logvars)


def _series_ok(path: Path, cfg: Config) -> bool:
    try:
        episodes.load_series(path, cfg.vae.z_size, cfg.env.action_size)
        return True
    except episodes.CorruptEpisode:
        return False


def write_initial_z(series_dir: Path, cfg: Config) -> Path:
    """``initial_z.npz``: mu, logvar float32 [N, Nz] of frame 0 of the first N <= 1000 series files."""
    files = episodes.list_episode_files(series_dir)[:INITIAL_Z_EPISODES]
    mu, logvar = [], []
    for path in files:
        data = episodes.load_series(path, cfg.vae.z_size, cfg.env.action_size)
        mu.append(data["mu"][0])
        logvar.append(data["logvar"][0])
    out = series_dir / "initial_z.npz"
    atomic.savez(out, mu=np.asarray(mu, np.float32), logvar=np.asarray(logvar, np.float32))
    return out


def encode(cfg: Config, run_dir: str | os.PathLike, jit_compile: bool = ENCODE_JIT, progress: bool = True) -> dict:
    """Encode every valid rollout of ``<run>/rollouts`` that has no valid series file yet; write initial_z.

    Returns:
        {"episodes": total series files, "encoded": newly encoded, "skipped": already done}
    """
    run_dir = Path(run_dir)
    rollouts, series_dir = run_dir / "rollouts", run_dir / "series"
    files = valid_episode_files(rollouts, lambda p: episodes.load_rollout(p, cfg.env.action_size))
    if not files:
        raise ConfigError(f"no valid rollouts in {rollouts}; run `python -m envs collect` first")
    todo = [p for p in files if not _series_ok(series_dir / p.name, cfg)]
    if not todo and (series_dir / "initial_z.npz").exists():
        print(f"[vae encode] already complete: {len(files)} series in {series_dir}", flush=True)
        return {"episodes": len(files), "encoded": 0, "skipped": len(files)}
    with stage_timer(run_dir, "vae_encode"):
        series_dir.mkdir(parents=True, exist_ok=True)
        atomic.remove_temp_files(series_dir)
        model = load_vae(run_dir)
        if model.z_size != cfg.vae.z_size:
            raise ConfigError(f"V in {run_dir} has Nz {model.z_size}, config says {cfg.vae.z_size}")
        encode_fn = make_encoder_fn(model, jit_compile)
        from tqdm import tqdm

        bar = tqdm(todo, desc="encode", unit="ep", disable=not progress, initial=len(files) - len(todo),
                   total=len(files))
        for path in bar:
            data = episodes.load_rollout(path, cfg.env.action_size)
            mu, logvar = encode_frames(encode_fn, data["obs"])
            episodes.save_series(series_dir / path.name, mu, logvar, data["action"], data["done"])
        bar.close()
        write_initial_z(series_dir, cfg)
    print(f"[vae encode] {len(todo)} encoded, {len(files) - len(todo)} already done -> {series_dir}", flush=True)
    return {"episodes": len(files), "encoded": len(todo), "skipped": len(files) - len(todo)}
