"""``python -m envs collect``: valid files, seeds, resume, corrupt-file detection, and a SIGKILL mid-way."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from common.atomic import TMP_MARK
from envs import episodes
from envs.__main__ import main
from envs.collect import SEED_STRIDE, episode_seed, quick_check

ROOT = Path(__file__).resolve().parents[1]


def collect(run_dir, *extra, experiment="doom"):
    with pytest.raises(SystemExit) as exit_info:
        main(["collect", "--experiment", experiment, "--preset", "tiny", "--run-dir", str(run_dir), *extra])
    return exit_info.value.code


def rollouts(run_dir, action_size=1):
    files = episodes.list_episode_files(Path(run_dir) / "rollouts")
    return files, [episodes.load_rollout(p, action_size) for p in files]


def test_collect_three_doom_episodes(tmp_path, capsys):
    # The game's own 2100-step cap (tiny caps episodes at 300): every episode ends in death.
    assert collect(tmp_path, "--episodes", "3", "--workers", "1", "--env.max_steps", "2100") == 0
    files, data = rollouts(tmp_path)
    assert [p.name for p in files] == [f"episode_{i:06d}.npz" for i in range(3)]
    for i, ep in enumerate(data):
        length = len(ep["obs"])
        assert length > 20  # tiny preset: min_frames 20
        assert (int(ep["seed"]) - i) % SEED_STRIDE == 0  # seed + i, or a derived retry seed
        assert ep["obs"].dtype == np.uint8 and ep["action"].shape == (length, 1)
        assert np.all(np.abs(ep["action"]) <= 1) and np.all(ep["reward"] == 1.0)
        assert ep["done"][-1] and not ep["done"][:-1].any()  # died at the last step, nothing earlier
        assert quick_check(files[i], 1) == length
    out = capsys.readouterr().out
    assert "collect: 3 episodes" in out and "MB on disk" in out
    assert (tmp_path / "config.json").exists() and "collect" in (tmp_path / "timings.json").read_text()
    # Same seed, same episode: re-collecting episode 1 reproduces it exactly.
    first = files[1].read_bytes()
    files[1].unlink()
    # The game's own 2100-step cap (tiny caps episodes at 300): every episode ends in death.
    assert collect(tmp_path, "--episodes", "3", "--workers", "1", "--env.max_steps", "2100") == 0
    assert np.array_equal(episodes.load_rollout(files[1], 1)["obs"], data[1]["obs"])
    assert len(first) > 0
    # Complete: fast exit, nothing rewritten.
    mtimes = [p.stat().st_mtime_ns for p in files]
    capsys.readouterr()
    assert collect(tmp_path, "--episodes", "3") == 0
    assert "collect: complete (3 episodes)" in capsys.readouterr().out
    assert [p.stat().st_mtime_ns for p in files] == mtimes


def test_the_last_long_holds_random_episodes_hold_longer():
    """collect.long_holds: the last N random-policy episodes hold each action up to collect.long_hold frames; an
    agent's episodes (a policy factory, iterative training) are the factory's."""
    from common.config import ConfigError, make_config
    from envs.collect import Job, make_policy

    cfg = make_config("doom", "tiny", {"collect.episodes": 5, "collect.long_holds": 2, "collect.long_hold": 50})
    assert [make_policy(Job(cfg, "unused"), i, 7).max_hold for i in range(5)] == [10, 10, 10, 50, 50]
    assert make_policy(Job(cfg, "unused", policy_factory=lambda seed: ("agent", seed)), 4, 7) == ("agent", 7)
    for bad in ({"collect.episodes": 1, "collect.long_holds": 2}, {"collect.long_holds": -1}):
        with pytest.raises(ConfigError):
            make_config("doom", "tiny", bad)
    with pytest.raises(ConfigError, match="Doom's random policy only"):
        make_config("carracing", "tiny", {"collect.long_holds": 1})


def test_short_doom_episodes_are_retried_with_derived_seeds(tmp_path):
    assert collect(tmp_path, "--episodes", "2", "--workers", "1", "--collect.min_frames", "90") == 0
    _, data = rollouts(tmp_path)
    for i, ep in enumerate(data):
        assert len(ep["obs"]) > 90
        k = (int(ep["seed"]) - i) // SEED_STRIDE
        assert int(ep["seed"]) == episode_seed(0, i, k)
    assert episode_seed(5, 3, 2) == 5 + 3 + 2 * SEED_STRIDE


def test_carracing_episodes(tmp_path):
    assert collect(tmp_path, "--episodes", "2", "--workers", "1", "--collect.max_frames", "15",
                   experiment="carracing") == 0
    _, data = rollouts(tmp_path, action_size=3)
    for i, ep in enumerate(data):
        assert len(ep["obs"]) == 15 and int(ep["seed"]) == i and not ep["done"].any()
        a = ep["action"]
        assert np.all(np.abs(a[:, 0]) <= 1) and np.all((a[:, 1:] >= 0) & (a[:, 1:] <= 1))


def test_batched_carracing_collection_is_the_same_episode_per_seed(tmp_path):
    """envpool collection plays env.vector_envs episodes per worker at once; each file depends on its seed only:
    3 episodes 2 at a time give the files of 3 episodes collected one at a time, and gymnasium's game
    (the reference env, one env per worker) writes files of the same form."""
    common = ("--episodes", "3", "--workers", "1", "--collect.max_frames", "12")
    assert collect(tmp_path / "batched", *common, "--env.vector_envs", "2", experiment="carracing") == 0
    assert collect(tmp_path / "single", *common, "--env.vector_envs", "1", experiment="carracing") == 0
    assert collect(tmp_path / "gym", *common, "--env.backend", "gymnasium", experiment="carracing") == 0
    _, batched = rollouts(tmp_path / "batched", action_size=3)
    _, single = rollouts(tmp_path / "single", action_size=3)
    _, gym = rollouts(tmp_path / "gym", action_size=3)
    assert len(batched) == len(single) == len(gym) == 3
    for a, b, g in zip(batched, single, gym):
        for key in ("obs", "action", "reward", "done", "seed"):
            np.testing.assert_array_equal(a[key], b[key])
            assert a[key].shape == g[key].shape and a[key].dtype == g[key].dtype


def test_corrupt_files_are_reported_and_recollected(tmp_path, capsys):
    # The game's own 2100-step cap (tiny caps episodes at 300): every episode ends in death.
    assert collect(tmp_path, "--episodes", "3", "--workers", "1", "--env.max_steps", "2100") == 0
    folder = tmp_path / "rollouts"
    good = episodes.load_rollout(episodes.episode_path(folder, 2), 1)
    truncated = episodes.episode_path(folder, 2)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    garbage = episodes.episode_path(folder, 0)
    garbage.write_bytes(b"not a zip file")
    leftover = folder / f".episode_000001.npz{TMP_MARK}12345"
    leftover.write_bytes(b"partial")
    capsys.readouterr()
    # The game's own 2100-step cap (tiny caps episodes at 300): every episode ends in death.
    assert collect(tmp_path, "--episodes", "3", "--workers", "1", "--env.max_steps", "2100") == 0
    out = capsys.readouterr().out
    corrupt_lines = [line for line in out.splitlines() if line.startswith("collect: corrupt")]
    assert len(corrupt_lines) == 2
    assert any("episode_000002.npz" in line for line in corrupt_lines)
    assert any("episode_000000.npz" in line for line in corrupt_lines)
    assert "removed 1 temp file" in out and not leftover.exists()
    files, data = rollouts(tmp_path)
    assert len(files) == 3
    assert np.array_equal(data[2]["obs"], good["obs"])  # re-collected with the same seed


def test_quick_check_rejects_wrong_shapes(tmp_path):
    path = tmp_path / "episode_000000.npz"
    np.savez_compressed(path, obs=np.zeros((4, 64, 64, 3), np.uint8), action=np.zeros((4, 2), np.float32),
                        reward=np.zeros(4, np.float32), done=np.zeros(4, bool), seed=np.int64(0))
    with pytest.raises(episodes.CorruptEpisode):
        quick_check(path, 1)
    assert quick_check(path, 2) == 4


def _live_vizdoom_in_group(pgid, wait=10.0):
    """vizdoom processes of process group ``pgid`` that are still alive (zombies awaiting reaping are dead)."""
    deadline = time.monotonic() + wait
    while True:
        out = subprocess.run(["ps", "-eo", "pid,pgid,stat,comm"], capture_output=True, text=True).stdout
        live = [line for line in out.splitlines()[1:]
                if line.split()[1] == str(pgid) and "vizdoom" in line and not line.split()[2].startswith("Z")]
        if not live or time.monotonic() > deadline:
            return live
        time.sleep(0.2)


@pytest.mark.slow
def test_sigkill_midway_then_resume(tmp_path):
    """Kill the whole collection (parent, workers, vizdoom) with SIGKILL after the first file, then re-run."""
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "envs", "collect", "--experiment", "doom", "--preset", "tiny", "--run-dir",
           str(run_dir), "--episodes", "60", "--workers", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    folder = run_dir / "rollouts"
    deadline = time.monotonic() + 120
    while not episodes.list_episode_files(folder) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not _live_vizdoom_in_group(proc.pid)
    present = len(episodes.list_episode_files(folder))
    assert 1 <= present < 60, "the kill came too late to test a resume"
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    files, data = rollouts(run_dir)
    assert len(files) == 60 and all(len(ep["obs"]) > 20 for ep in data)
    assert not [p for p in folder.iterdir() if TMP_MARK in p.name]
    assert "collect: complete (60 episodes)" in subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                                                                  text=True, timeout=60).stdout


def test_agent_policy_needs_a_trained_agent(tmp_path, capsys):
    run_dir = tmp_path / "fresh"
    assert collect(run_dir, "--collect.policy", "agent") == 2
    assert "needs V and M" in capsys.readouterr().err and not run_dir.exists()  # nothing written
    assert collect(tmp_path / "car", "--collect.policy", "agent", experiment="carracing") == 2
    assert collect(tmp_path / "bad", "--collect.policy", "expert") == 2
    assert collect(tmp_path / "bad", "--collect.explore", "1.5") == 2
    assert not (tmp_path / "car").exists() and not (tmp_path / "bad").exists()
