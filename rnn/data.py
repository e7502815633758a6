"""Training batches for M from the latent series (<run>/series/episode_NNNNNN.npz), as the authors (§4.5-4.6).

Every batch is a dict of float32 numpy arrays over ``frames`` = the window length:
    mu, logvar [B, F, Nz], action [B, F, A], restart [B, F] (1 on an episode's first frame), mask [B, F]
(1 where the frame exists). The training step re-samples z = mu + exp(logvar/2) eps for every batch, feeds
frames 0..F-2 and predicts frames 1..F-1.

CarRacing (``stateful`` False, :class:`RandomEpisodeBatches`): each step draws ``batch_size`` distinct random
episodes (a fresh draw per step, no epochs; seeded by (seed, step), so a resumed run sees the same batches) and
takes frames 0..L of each, L = sequence_length (authors: 1000-frame episodes, L = 999, inputs 0..998, targets
1..999). Rule for episodes shorter than L + 1 frames (gymnasium's CarRacing can terminate early, the authors'
could not): the window is zero-padded and the padded frames get mask 0, so they add nothing to the loss (the
loss is the mean over real frames only); with full-length episodes this is exactly the authors' batch.
Episodes longer than L + 1 frames contribute frames 0..L only, as the authors.

Doom (``stateful`` True, :class:`StreamBatches`): each epoch shuffles the episode list (seeded by (seed,
epoch)), concatenates the episodes into one stream with restart = 1 at each episode's first frame, truncates the
stream to a multiple of batch_size * L frames (L = sequence_length = 500, the authors' chunk length), splits it
into batch_size rows of contiguous stream and each row into consecutive L-frame chunks; batch k = chunk k of
every row. So a chunk's inputs are its frames 0..L-2 and targets 1..L-1 (authors: 499 steps of a 500-frame
chunk); the training loop carries the LSTM state from batch k to k+1 and zeroes it at each epoch's start.

Memory bound: nothing holds the whole data set. The series are read from their files when a batch needs them,
through an LRU cache of at most ``cache_bytes`` (default 256 MiB) of decoded episodes, plus the batch being
trained and one prefetched: about 2 * B * F * (2 Nz + A + 2) * 4 bytes (Doom paper size: 2 * 100 * 500 * 131 *
4 B = 52 MB). The episode lengths (one int per file) are read once at start.
"""
from __future__ import annotations

import collections
import sys
from pathlib import Path

import numpy as np

from common.config import ConfigError
from envs.episodes import CorruptEpisode, list_episode_files, load_series

DEFAULT_CACHE_BYTES = 256 * 2 ** 20


def scan_series(folder: str | Path, z_size: int, action_size: int) -> tuple[list[Path], list[int]]:
    """Valid series files in index order and their lengths; warns once with the count of skipped files."""
    files, lengths, bad = [], [], []
    for path in list_episode_files(folder):
        try:
            arrays = load_series(path, z_size, action_size)
        except CorruptEpisode as err:
            bad.append(str(err))
            continue
        files.append(path)
        lengths.append(int(arrays["mu"].shape[0]))
    if bad:
        print(f"warning: skipped {len(bad)} invalid series file(s) in {folder} (first: {bad[0]})",
              file=sys.stderr, flush=True)
    if not files:
        raise ConfigError(f"no valid series files in {folder}: run `python -m vae encode` first")
    return files, lengths


class EpisodeCache:
    """LRU cache of decoded series episodes, bounded in bytes."""

    def __init__(self, files, z_size: int, action_size: int, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.files, self.z_size, self.action_size = list(files), z_size, action_size
        self.max_bytes, self.bytes = max_bytes, 0
        self._items: collections.OrderedDict[int, dict] = collections.OrderedDict()

    def get(self, index: int) -> dict[str, np.ndarray]:
        if index in self._items:
            self._items.move_to_end(index)
            return self._items[index]
        arrays = load_series(self.files[index], self.z_size, self.action_size)
        size = sum(a.nbytes for a in arrays.values())
        self._items[index] = arrays
        self.bytes += size
        while self.bytes > self.max_bytes and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            self.bytes -= sum(a.nbytes for a in old.values())
        return arrays


def _empty_batch(batch: int, frames: int, z_size: int, action_size: int) -> dict[str, np.ndarray]:
    return {"mu": np.zeros((batch, frames, z_size), np.float32),
            "logvar": np.zeros((batch, frames, z_size), np.float32),
            "action": np.zeros((batch, frames, action_size), np.float32),
            "restart": np.zeros((batch, frames), np.float32),
            "mask": np.zeros((batch, frames), np.float32)}


class RandomEpisodeBatches:
    """CarRacing: batch_size distinct random episodes per step, frames 0..sequence_length of each."""

    def __init__(self, files, lengths, z_size: int, action_size: int, batch_size: int, sequence_length: int,
                 seed: int, cache_bytes: int = DEFAULT_CACHE_BYTES):
        self.lengths = np.asarray(lengths)
        self.z_size, self.action_size = z_size, action_size
        self.batch_size, self.frames, self.seed = batch_size, sequence_length + 1, seed
        self.cache = EpisodeCache(files, z_size, action_size, cache_bytes)
        usable = int(np.sum(self.lengths >= 2))
        if usable == 0:
            raise ConfigError("every series episode has fewer than 2 frames; nothing to train M on")
        self.usable = np.flatnonzero(self.lengths >= 2)
        self.short = int(np.sum(self.lengths < self.frames))
        if self.short:
            print(f"note: {self.short} of {len(self.lengths)} episodes are shorter than {self.frames} frames; "
                  f"their windows are zero-padded and masked out of the loss", file=sys.stderr, flush=True)

    def batch(self, step: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, step])
        n = len(self.usable)
        picks = self.usable[rng.choice(n, size=self.batch_size, replace=n < self.batch_size)]
        out = _empty_batch(self.batch_size, self.frames, self.z_size, self.action_size)
        for row, index in enumerate(picks):
            ep = self.cache.get(int(index))
            t = min(self.frames, ep["mu"].shape[0])
            out["mu"][row, :t], out["logvar"][row, :t], out["action"][row, :t] = (
                ep["mu"][:t], ep["logvar"][:t], ep["action"][:t])
            out["restart"][row, 0] = 1.0
            out["mask"][row, :t] = 1.0
        return out


class StreamBatches:
    """Doom: per epoch one shuffled stream of all episodes, batch_size rows, consecutive chunk_length chunks."""

    def __init__(self, files, lengths, z_size: int, action_size: int, batch_size: int, chunk_length: int,
                 seed: int, cache_bytes: int = DEFAULT_CACHE_BYTES):
        self.lengths = np.asarray(lengths, np.int64)
        self.z_size, self.action_size = z_size, action_size
        self.batch_size, self.frames, self.seed = batch_size, chunk_length, seed
        self.cache = EpisodeCache(files, z_size, action_size, cache_bytes)
        total = int(self.lengths.sum())
        self.batches_per_epoch = total // (batch_size * chunk_length)
        if self.batches_per_epoch == 0:
            raise ConfigError(f"the series hold {total} frames, fewer than one batch of rnn.batch_size x "
                              f"rnn.sequence_length = {batch_size} x {chunk_length}; collect more episodes or "
                              f"lower those settings")
        self.row_frames = self.batches_per_epoch * chunk_length
        self._epoch, self._order, self._starts = None, None, None

    def _layout(self, epoch: int):
        if self._epoch != epoch:
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.lengths))
            self._order = order
            self._starts = np.concatenate([[0], np.cumsum(self.lengths[order])])
            self._epoch = epoch
        return self._order, self._starts

    def batch(self, epoch: int, index: int) -> dict[str, np.ndarray]:
        """Chunk ``index`` (0..batches_per_epoch-1) of every row of epoch ``epoch``'s stream."""
        if not 0 <= index < self.batches_per_epoch:
            raise IndexError(f"batch {index} outside 0..{self.batches_per_epoch - 1}")
        order, starts = self._layout(epoch)
        out = _empty_batch(self.batch_size, self.frames, self.z_size, self.action_size)
        out["mask"][:] = 1.0
        for row in range(self.batch_size):
            lo = row * self.row_frames + index * self.frames
            hi = lo + self.frames
            pos = int(np.searchsorted(starts, lo, side="right")) - 1
            while lo < hi:
                ep_start, ep_end = int(starts[pos]), int(starts[pos + 1])
                ep = self.cache.get(int(order[pos]))
                a, b = lo - ep_start, min(hi, ep_end) - ep_start
                dst = slice(lo - (row * self.row_frames + index * self.frames),
                            lo - (row * self.row_frames + index * self.frames) + (b - a))
                out["mu"][row, dst] = ep["mu"][a:b]
                out["logvar"][row, dst] = ep["logvar"][a:b]
                out["action"][row, dst] = ep["action"][a:b]
                if a == 0:
                    out["restart"][row, dst.start] = 1.0
                lo += b - a
                pos += 1
        return out
