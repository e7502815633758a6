"""`python -m vae encode`: every valid rollout -> ``<run>/series/episode_NNNNNN.npz`` (mu, logvar, action, done).

As the authors' `series.py` (ORIGINAL-SPEC-DETAILED section 3) we store V's posterior (mu, logvar), not z, so M's
training can re-sample z = mu + exp(logvar/2) * eps for every batch; unlike them we keep float32 and the done flags.
Also writes ``<run>/series/initial_z.npz``: mu and logvar of frame 0 of the first min(1000, N) episodes (the
authors' initial_z, where the Doom dream starts). :func:`rebuild_initial_z` (``--initial-z-only``) remakes that
file for a run that has V but no rollouts, as a committed result folder: frame 0 of an episode is the observation
of the real env's ``reset(seed)``, so resetting with the collection seeds gives the same first frames.

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
from common.run_layout import RunLayout
from common.timing import stage_timer
from envs import episodes
from envs.data import valid_episode_files
from vae.export import ServedVAE, load_v
from vae.model import FRAME_SHAPE, ConvVAE

INITIAL_Z_EPISODES = 1000
ENCODE_CHUNK = 200  # frames per compiled call (bench/vae_throughput.py)
ENCODE_JIT = False  # XLA for the encoder: measured no faster than the oneDNN graph on a 2-core CPU


def make_encoder_fn(model: ConvVAE | ServedVAE, jit_compile: bool = True):
    """Compiled uint8 frames [ENCODE_CHUNK, 64, 64, 3] -> (mu, logvar) float32 [ENCODE_CHUNK, Nz].

    ``model``: the Keras ConvVAE, or V served from its SavedModel alone (a published run folder has only that),
    whose saved graph runs as it was saved, without XLA."""
    if isinstance(model, ServedVAE):
        forward, jit_compile = model.encode, False
    else:
        forward = lambda x: model.encoder(x, training=False)  # noqa: E731

    @tf.function(jit_compile=jit_compile, reduce_retracing=True, autograph=False,
                 input_signature=[tf.TensorSpec((None, *FRAME_SHAPE), tf.uint8)])
    def encode(frames):
        return forward(tf.cast(frames, tf.float32) / 255.0)

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


def write_initial_z(layout: RunLayout, cfg: Config) -> Path:
    """``initial_z.npz``: mu, logvar float32 [N, Nz] of frame 0 of the first N <= 1000 series files."""
    files = episodes.list_episode_files(layout.series)[:INITIAL_Z_EPISODES]
    mu, logvar = [], []
    for path in files:
        data = episodes.load_series(path, cfg.vae.z_size, cfg.env.action_size)
        mu.append(data["mu"][0])
        logvar.append(data["logvar"][0])
    episodes.save_initial_z(layout.initial_z, mu, logvar)
    return layout.initial_z


def is_complete(cfg: Config, run_dir: str | os.PathLike) -> bool:
    """Every rollout has its series file, and initial_z.npz is newer than V (file names and time stamps only;
    :func:`encode` validates every file before it skips)."""
    layout = RunLayout(run_dir)
    model = layout.vae_model if layout.vae_model.exists() else layout.vae_saved_model
    rollouts = {p.name for p in episodes.list_episode_files(layout.rollouts)}
    series = {p.name for p in episodes.list_episode_files(layout.series)}
    return (bool(rollouts) and rollouts <= series and layout.initial_z.exists() and model.exists()
            and layout.initial_z.stat().st_mtime >= model.stat().st_mtime)


def encode(cfg: Config, run_dir: str | os.PathLike, jit_compile: bool = ENCODE_JIT, progress: bool = True) -> dict:
    """Encode every valid rollout of ``<run>/rollouts`` that has no valid series file yet; write initial_z.

    Returns:
        {"episodes": total series files, "encoded": newly encoded, "skipped": already done}
    """
    run_dir = Path(run_dir)
    layout = RunLayout(run_dir)
    rollouts, series_dir = layout.rollouts, layout.series
    files = valid_episode_files(rollouts, lambda p: episodes.load_rollout(p, cfg.env.action_size))
    if not files:
        raise ConfigError(f"no valid rollouts in {rollouts}; run `python -m envs collect` first")
    todo = [p for p in files if not _series_ok(series_dir / p.name, cfg)]
    if not todo and layout.initial_z.exists():
        print(f"[vae encode] already complete: {len(files)} series in {series_dir}", flush=True)
        return {"episodes": len(files), "encoded": 0, "skipped": len(files)}
    with stage_timer(run_dir, "vae_encode"):
        series_dir.mkdir(parents=True, exist_ok=True)
        atomic.remove_temp_files(series_dir)
        model = load_v(run_dir)
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
        write_initial_z(layout, cfg)
    print(f"[vae encode] {len(todo)} encoded, {len(files) - len(todo)} already done -> {series_dir}", flush=True)
    return {"episodes": len(files), "encoded": len(todo), "skipped": len(files) - len(todo)}


def rebuild_initial_z(cfg: Config, run_dir: str | os.PathLike, count: int | None = None,
                      progress: bool = True) -> Path:
    """Write ``initial_z.npz`` from V and the real env alone: no rollouts needed.

    Episode i of ``envs collect`` starts from ``reset(seed=episode_seed(cfg.collect.seed, i))``, and frame 0 is
    that reset's observation, so encoding those observations with V gives the rows :func:`write_initial_z` would
    write, for the first ``count`` (default min(1000, collect.episodes)) episodes. A Doom episode discarded as too
    short was retried with another seed; its row here uses the first seed. Measured on TakeCover: 1000 resets and
    their encoding take about 9 s on a 2-core CPU (so all 1000 are kept), and the first frame does not depend
    on the seed (all rows are equal; the dream's variety comes from z_0's noise and M's sampling).
    """
    import gymnasium

    import envs
    from envs.collect import episode_seed
    from vae.export import load_v

    layout = RunLayout(run_dir)
    model = load_v(run_dir)  # ConfigError before any env starts when the run has no V
    if model.z_size != cfg.vae.z_size:
        raise ConfigError(f"V in {run_dir} has Nz {model.z_size}, config says {cfg.vae.z_size}")
    count = min(INITIAL_Z_EPISODES, cfg.collect.episodes) if count is None else int(count)
    if count < 1:
        raise ConfigError(f"initial z needs at least one episode, got {count}")
    from tqdm import tqdm

    env = gymnasium.make(cfg.env.env_id, **envs.env_kwargs(cfg))
    try:
        frames = np.stack([env.reset(seed=episode_seed(cfg.collect.seed, i))[0]
                           for i in tqdm(range(count), desc="reset", unit="ep", disable=not progress)])
    finally:
        env.close()
    # V here may be the SavedModel alone (a committed folder), so it is called through its `encode`.
    mu, logvar = encode_frames(lambda chunk: model.encode(tf.cast(chunk, tf.float32) / 255.0), frames)
    episodes.save_initial_z(layout.initial_z, mu, logvar)
    return layout.initial_z
