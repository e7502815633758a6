"""The per-episode file formats every stage shares, and their validation (numpy only, no TensorFlow).

Rollout file ``<run>/rollouts/episode_NNNNNN.npz`` (written by ``python -m envs collect``):
    obs     uint8   [T, 64, 64, 3]  frame seen *before* action t (the authors' convention)
    action  float32 [T, A]          action taken at step t (Doom: the continuous value in [-1, 1])
    reward  float32 [T]             reward of step t
    done    bool    [T]             True only where step t ended the episode by termination (not a time cap)
    seed    int64   []              the seed the episode was collected with

Series file ``<run>/series/episode_NNNNNN.npz`` (written by ``python -m vae encode``):
    mu, logvar  float32 [T, Nz]     V's posterior of each frame
    action      float32 [T, A]
    done        bool    [T]

Initial-z file ``<run>/series/initial_z.npz`` (written by ``python -m vae encode``; where the dream starts):
    mu, logvar  float32 [N, Nz]     V's posterior of frame 0 of the first N <= 1000 episodes

Every file is written atomically (:mod:`common.atomic`), so a file that fails to load or validate was damaged
after the fact; :func:`envs.data.valid_episode_files` skips and counts such files instead of letting a stage use
them.
"""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import numpy as np

from common import atomic

FRAME_SHAPE = (64, 64, 3)
_NAME = re.compile(r"^episode_(\d{6,})\.npz$")


class CorruptEpisode(ValueError):
    """A file that exists but cannot be used (truncated, wrong keys, shapes, dtypes or values)."""


def episode_path(folder: str | os.PathLike, index: int) -> Path:
    return Path(folder) / f"episode_{index:06d}.npz"


def episode_index(path: str | os.PathLike) -> int | None:
    match = _NAME.match(Path(path).name)
    return int(match.group(1)) if match else None


def list_episode_files(folder: str | os.PathLike) -> list[Path]:
    """Episode files in index order (temp files and other names are ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if episode_index(p) is not None), key=episode_index)


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise CorruptEpisode(f"{path.name}: unreadable ({type(err).__name__}: {err})") from None


def _check(path: Path, arrays: dict, spec: dict[str, tuple[type, tuple]]) -> int:
    """Check keys, dtypes and shapes (None = the episode length T, equal across keys); return T."""
    missing = sorted(set(spec) - set(arrays))
    if missing:
        raise CorruptEpisode(f"{path.name}: missing {', '.join(missing)}")
    length = None
    for key, (dtype, shape) in spec.items():
        arr = arrays[key]
        if arr.dtype != dtype:
            raise CorruptEpisode(f"{path.name}: {key} is {arr.dtype}, expected {np.dtype(dtype)}")
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            raise CorruptEpisode(f"{path.name}: {key} has shape {arr.shape}, expected {shape}")
        if shape and shape[0] is None:
            if length is None:
                length = arr.shape[0]
            elif arr.shape[0] != length:
                raise CorruptEpisode(f"{path.name}: {key} has {arr.shape[0]} steps, others {length}")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise CorruptEpisode(f"{path.name}: {key} holds NaN or inf")
    if not length:
        raise CorruptEpisode(f"{path.name}: empty episode")
    return length


def rollout_spec(action_size: int) -> dict[str, tuple[type, tuple]]:
    return {"obs": (np.uint8, (None, *FRAME_SHAPE)), "action": (np.float32, (None, action_size)),
            "reward": (np.float32, (None,)), "done": (np.bool_, (None,)), "seed": (np.int64, ())}


def series_spec(z_size: int, action_size: int) -> dict[str, tuple[type, tuple]]:
    return {"mu": (np.float32, (None, z_size)), "logvar": (np.float32, (None, z_size)),
            "action": (np.float32, (None, action_size)), "done": (np.bool_, (None,))}


def save_rollout(path: str | os.PathLike, obs, action, reward, done, seed: int) -> None:
    arrays = dict(obs=np.asarray(obs, np.uint8), action=np.asarray(action, np.float32),
                  reward=np.asarray(reward, np.float32), done=np.asarray(done, np.bool_),
                  seed=np.asarray(seed, np.int64))
    _check(Path(path), arrays, rollout_spec(arrays["action"].shape[-1]))
    atomic.savez(path, **arrays)


def load_rollout(path: str | os.PathLike, action_size: int) -> dict[str, np.ndarray]:
    path = Path(path)
    arrays = _load(path)
    _check(path, arrays, rollout_spec(action_size))
    return arrays


def save_series(path: str | os.PathLike, mu, logvar, action, done) -> None:
    arrays = dict(mu=np.asarray(mu, np.float32), logvar=np.asarray(logvar, np.float32),
                  action=np.asarray(action, np.float32), done=np.asarray(done, np.bool_))
    _check(Path(path), arrays, series_spec(arrays["mu"].shape[-1], arrays["action"].shape[-1]))
    atomic.savez(path, **arrays)


def load_series(path: str | os.PathLike, z_size: int, action_size: int) -> dict[str, np.ndarray]:
    path = Path(path)
    arrays = _load(path)
    _check(path, arrays, series_spec(z_size, action_size))
    return arrays


def save_initial_z(path: str | os.PathLike, mu, logvar) -> None:
    atomic.savez(path, mu=np.asarray(mu, np.float32), logvar=np.asarray(logvar, np.float32))


def load_initial_z(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """``series/initial_z.npz`` -> (mu, logvar), float32 [N, Nz] each; ConfigError when missing or malformed."""
    from common.config import ConfigError

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"initial z statistics not found at {path}: run `python -m vae encode` first")
    try:
        with np.load(path) as data:
            mu, logvar = data["mu"].astype(np.float32), data["logvar"].astype(np.float32)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise ConfigError(f"{path}: not an initial-z file ({type(err).__name__}: {err})") from None
    if mu.ndim != 2 or mu.shape != logvar.shape or len(mu) == 0:
        raise ConfigError(f"{path}: mu and logvar must be equal non-empty [N, z_size] arrays, "
                          f"got {mu.shape} and {logvar.shape}")
    return mu, logvar
