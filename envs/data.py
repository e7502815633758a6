"""Streaming frames from a rollout folder as a tf.data pipeline (shared by V's training and other stages).

The dataset never holds the whole rollout set in memory: each pass shuffles the list of episode files, reads a few
files at a time (``interleave``), mixes their frames in a shuffle buffer of ``shuffle_buffer`` frames (the authors
shuffled every frame across episodes, ORIGINAL-SPEC-DETAILED 2.3; a buffer is the streaming equivalent), cuts
full batches (the authors dropped the remainder too) and converts uint8 -> float32 / 255 per batch.

Files are validated with :mod:`envs.episodes` first; files that fail are skipped with one warning that gives
their count (``python -m envs collect`` re-collects them).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from envs import episodes


class SkippedEpisodesWarning(UserWarning):
    """Some rollout files in a folder failed validation and are not used."""


def valid_episode_files(folder: str | os.PathLike, load: Callable[[Path], dict],
                        max_episodes: int = 0) -> list[Path]:
    """Episode files of ``folder`` (index order) that ``load`` accepts; warn once with the count of the others.

    Args:
        folder: a rollout or series folder.
        load: e.g. ``lambda p: episodes.load_rollout(p, action_size)``; raises ``CorruptEpisode`` on a bad file.
        max_episodes: stop after this many valid files (0: all). Files after that are not read.
    Returns:
        the valid paths.
    """
    good, bad = [], []
    for path in episodes.list_episode_files(folder):
        if max_episodes and len(good) >= max_episodes:
            break
        try:
            load(path)
            good.append(path)
        except episodes.CorruptEpisode as err:
            bad.append(str(err))
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        warnings.warn(f"skipped {len(bad)} invalid episode file(s) in {folder}: {bad[0]}{more}; "
                      f"re-run `python -m envs collect` to replace them", SkippedEpisodesWarning, stacklevel=2)
    return good


def scan_rollouts(folder: str | os.PathLike, action_size: int, max_episodes: int = 0) -> tuple[list[Path], list[int]]:
    """Valid rollout files (see :func:`valid_episode_files`) and their lengths in frames."""
    lengths: dict[Path, int] = {}

    def load(path: Path) -> dict:
        arrays = episodes.load_rollout(path, action_size)
        lengths[path] = len(arrays["obs"])
        return arrays

    files = valid_episode_files(folder, load, max_episodes)
    return files, [lengths[p] for p in files]


def frame_dataset(folder: str | os.PathLike, action_size: int, batch_size: int, shuffle_buffer: int, seed: int,
                  max_episodes: int = 0, files: list[Path] | None = None, cycle_length: int = 4):
    """tf.data.Dataset of float32 [batch_size, 64, 64, 3] frames in [0, 1], streamed from the rollouts.

    One iteration is one pass over the frames (remainder dropped); each new iteration reshuffles. The order is
    a deterministic function of ``seed`` (so ``skip(k)`` resumes a pass exactly).

    Args:
        folder: rollout folder (``<run>/rollouts``).
        action_size: the experiment's action width (validation).
        batch_size: frames per batch.
        shuffle_buffer: frames in the shuffle buffer.
        seed: seed of the file order and of the frame shuffle.
        max_episodes: use the first N valid episodes (0: all).
        files: already-validated files (skips the scan), e.g. from :func:`scan_rollouts`.
        cycle_length: episode files read at once.
    """
    import tensorflow as tf  # here, so `import envs.data` stays cheap for non-TF users

    if files is None:
        files, _ = scan_rollouts(folder, action_size, max_episodes)
    if not files:
        raise FileNotFoundError(f"no valid rollout files in {folder}; run `python -m envs collect` first")

    def read_frames(path):
        # A file damaged after the scan yields no frames instead of stopping the training.
        try:
            with np.load(path.decode() if isinstance(path, bytes) else path, allow_pickle=False) as data:
                obs = data["obs"]
        except Exception as err:  # noqa: BLE001 - any read error means "skip this file"
            warnings.warn(f"could not read {path!r} during training ({err}); skipped", SkippedEpisodesWarning)
            return
        if obs.dtype == np.uint8 and obs.shape[1:] == episodes.FRAME_SHAPE:
            yield obs

    def episode_frames(path):
        return tf.data.Dataset.from_generator(
            read_frames, args=(path,),
            output_signature=tf.TensorSpec((None, *episodes.FRAME_SHAPE), tf.uint8)).unbatch()

    paths = tf.data.Dataset.from_tensor_slices([str(p) for p in files])
    paths = paths.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    frames = paths.interleave(episode_frames, cycle_length=min(cycle_length, len(files)), block_length=1,
                              num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    frames = frames.shuffle(shuffle_buffer, seed=seed + 1, reshuffle_each_iteration=True)
    batches = frames.batch(batch_size, drop_remainder=True)
    batches = batches.map(lambda x: tf.cast(x, tf.float32) / 255.0, num_parallel_calls=tf.data.AUTOTUNE)
    return batches.prefetch(tf.data.AUTOTUNE)
