"""envs/data.py: validation with one warning, and the streamed, shuffled frame batches."""
import numpy as np
import pytest

from envs import episodes
from envs.data import SkippedEpisodesWarning, frame_dataset, scan_rollouts, valid_episode_files


def write_rollouts(folder, lengths, action_size=1, seed=0):
    """Episode i's frames are all the value 10*(i+1) (so a batch shows which episodes it mixes)."""
    rng = np.random.default_rng(seed)
    for i, length in enumerate(lengths):
        obs = np.full((length, 64, 64, 3), 10 * (i + 1), np.uint8)
        episodes.save_rollout(episodes.episode_path(folder, i), obs, rng.uniform(-1, 1, (length, action_size)),
                              np.ones(length), np.arange(length) == length - 1, i)


def test_corrupt_files_are_skipped_with_one_warning(tmp_path):
    write_rollouts(tmp_path, [5, 6, 7])
    episodes.episode_path(tmp_path, 3).write_bytes(b"not a zip")
    data = dict(np.load(episodes.episode_path(tmp_path, 0)))
    data["obs"] = data["obs"][:, :32]  # wrong frame shape
    np.savez(episodes.episode_path(tmp_path, 4), **data)
    with pytest.warns(SkippedEpisodesWarning, match="skipped 2 invalid") as record:
        files, lengths = scan_rollouts(tmp_path, action_size=1)
    assert len([w for w in record if issubclass(w.category, SkippedEpisodesWarning)]) == 1
    assert [p.name for p in files] == [f"episode_00000{i}.npz" for i in range(3)]
    assert lengths == [5, 6, 7]


def test_valid_files_honour_max_episodes(tmp_path):
    write_rollouts(tmp_path, [3, 3, 3, 3])
    files = valid_episode_files(tmp_path, lambda p: episodes.load_rollout(p, 1), max_episodes=2)
    assert [episodes.episode_index(p) for p in files] == [0, 1]


def test_frame_dataset_batches_shuffled_across_episodes(tmp_path):
    write_rollouts(tmp_path, [30, 30, 30, 25])
    ds = frame_dataset(tmp_path, action_size=1, batch_size=20, shuffle_buffer=60, seed=0)
    batches = [b.numpy() for b in ds]
    assert len(batches) == 115 // 20  # remainder dropped, as the authors
    assert all(b.shape == (20, 64, 64, 3) and b.dtype == np.float32 for b in batches)
    values = np.concatenate([b[:, 0, 0, 0] for b in batches])
    assert values.min() >= 10 / 255 - 1e-6 and values.max() <= 40 / 255 + 1e-6
    assert max(len(np.unique(b[:, 0, 0, 0])) for b in batches) > 1  # frames of several episodes in one batch
    again = [b.numpy() for b in frame_dataset(tmp_path, 1, 20, 60, seed=0)]
    np.testing.assert_array_equal(np.stack(batches), np.stack(again))  # deterministic per seed (resume skips)


def test_frame_dataset_with_no_valid_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no valid rollout"):
        frame_dataset(tmp_path, 1, 10, 10, seed=0)
