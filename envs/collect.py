"""``python -m envs collect``: the authors' random-policy rollouts, one compressed ``.npz`` per episode.

- Episode ``i`` (0 <= i < collect.episodes) goes to ``envs.episodes.episode_path(<run>/rollouts, i)`` and is
  collected with seed ``collect.seed + i``, inside the collection range of common/seeds.py (the env's
  ``reset(seed=...)`` and the policy's RNG both get it).
  A Doom episode of ``collect.min_frames`` frames or fewer is discarded, as the authors did, and the same
  index is retried with seed ``collect.seed + i + k * 1_000_003`` (k = 1, 2, ...), so the count is exactly
  ``collect.episodes`` and every file is reproducible from its index alone. The seed used is stored in the file.
- Per step the frame seen *before* the action is stored with the action (the frame after the last action is
  not); ``done[t]`` is True only when step t terminated the episode (death / off-track; never for the cap).
  CarRacing runs with ``full_episode=True`` as the authors' extract step: the env's own termination is ignored,
  so every CarRacing episode is ``collect.max_frames`` frames.
- ``collect.policy agent`` (Doom) collects with a trained agent instead (this run's, or ``collect.agent_dir``'s
  V, M and ``controller/best.json``), exploring with the random policy's holds: step 2 of the paper's iterative
  training (``python -m reports iterate``). The policy comes from a factory named in ``POLICY_FACTORIES`` and
  imported by that name, so this layer imports nothing of controller/. Give such episodes indices and seeds of
  their own (``--episodes`` above the earlier ones, ``--collect.seed``).
- Work is spread over ``collect.workers`` spawned processes (one env each, reused across episodes). CarRacing
  with ``env.backend envpool`` plays ``env.vector_envs`` episodes per worker at once (:func:`collect_batch`);
  envpool cannot step a car past the playfield's edge, so such an episode ends there (``done`` at its last step).
  Files are written atomically (temp file + rename), so a killed run leaves finished files and temp leftovers only; a
  re-run deletes the leftovers, checks the existing files, reports each corrupt one (one line) and collects it
  again, and only runs the missing indices.
- The check of existing files reads each file's zip directory and array headers (keys, dtypes, shapes, equal
  lengths): this catches truncated and garbled files without decompressing every frame. ``--full-check``
  loads every array instead (CRC and NaN checks too); ``envs/data.py`` validates fully when it reads.
"""
from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import signal
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import atomic
from common.config import Config
from common.run_layout import RunLayout
from common.seeds import COLLECTION
from common.threads import single_threaded_workers
from common.timing import stage_timer
from envs import episodes

SEED_STRIDE = 1_000_003  # retry k of episode i uses seed + i + k * SEED_STRIDE, while inside the collection range
# collect.policy values other than "random": "module:function" building a picklable factory(seed) -> policy from
# (cfg, run_dir), raising ConfigError before anything is written when it cannot play.
POLICY_FACTORIES = {"agent": "controller.explore:agent_policy_factory"}


def episode_seed(base_seed: int, index: int, attempt: int = 0) -> int:
    return base_seed + index + attempt * SEED_STRIDE


@dataclass(frozen=True)
class Job:
    """What a worker needs to collect episodes (picklable)."""

    cfg: Config  # the run's config: the env and the collect settings
    folder: str
    policy_factory: object = None  # picklable factory(seed) -> policy; None: the authors' random policy
    batched: bool = False  # env.vector_envs episodes per worker at once (EpisodeBatch); else one env per worker

    @property
    def max_frames(self) -> int:
        return min(self.cfg.collect.max_frames, self.cfg.env.max_steps)


@dataclass(frozen=True)
class EpisodeResult:
    index: int
    seed: int
    attempts: int
    frames: int
    discarded_frames: int
    bytes: int


def make_env(job: Job):
    """The collecting env: the experiment's registered env; CarRacing keeps stepping past the game's end, as the
    authors' ``full_episode`` did."""
    from envs import make_env as make_experiment_env

    kwargs = {"full_episode": True} if job.cfg.experiment == "carracing" else {}
    return make_experiment_env(job.cfg, disable_env_checker=True, **kwargs)


def run_episode(env, policy, seed: int, max_frames: int) -> dict[str, np.ndarray]:
    """One episode: obs[t] is the frame seen before action[t]; the frame after the last action is dropped."""
    obs, _ = env.reset(seed=seed)
    frames, actions, rewards, dones = [], [], [], []
    for _ in range(max_frames):
        action = policy(obs)
        frames.append(obs)
        actions.append(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
        dones.append(terminated)
        if terminated or truncated:
            break
    return episode_arrays(frames, actions, rewards, dones)


def episode_arrays(frames, actions, rewards, dones) -> dict[str, np.ndarray]:
    """One episode's per-step lists as the arrays of a rollout file (``envs.episodes.save_rollout``)."""
    return dict(obs=np.stack(frames).astype(np.uint8), action=np.stack(actions).astype(np.float32),
                reward=np.asarray(rewards, np.float32), done=np.asarray(dones, np.bool_))


def save_episode(job: Job, index: int, seed: int, ep: dict, attempts: int = 1, discarded: int = 0) -> EpisodeResult:
    """Write episode ``index`` atomically and describe it."""
    path = episodes.episode_path(job.folder, index)
    episodes.save_rollout(path, seed=seed, **ep)
    return EpisodeResult(index, seed, attempts, len(ep["obs"]), discarded, path.stat().st_size)


def make_policy(job: Job, index: int, seed: int):
    """The collection policy of episode ``index`` (played with ``seed``): the job's factory's, or the authors'
    random one, whose holds reach collect.long_hold frames in the last collect.long_holds episodes."""
    from envs.random_policies import make_random_policy

    c = job.cfg.collect
    if job.policy_factory is None:
        return make_random_policy(job.cfg.experiment, seed, c.long_hold if index >= c.episodes - c.long_holds
                                  else c.max_hold)
    return job.policy_factory(seed)


def collect_one(env, job: Job, index: int, alive=lambda: True) -> EpisodeResult | None:
    """Collect episode ``index`` (retrying short Doom episodes with derived seeds) and save it atomically."""
    discarded, attempt = 0, 0
    min_frames = job.cfg.collect.min_frames
    while (seed := episode_seed(job.cfg.collect.seed, index, attempt)) in COLLECTION:
        attempt += 1
        ep = run_episode(env, make_policy(job, index, seed), seed, job.max_frames)
        length = len(ep["obs"])
        if length > min_frames:
            return save_episode(job, index, seed, ep, attempt, discarded) if alive() else None
        discarded += length
    raise RuntimeError(f"episode {index}: {attempt} attempts all had <= {min_frames} frames (every retry seed "
                       f"of the collection range was used)")


def collect_batch(job: Job, indices: list[int], alive=lambda: True) -> list[EpisodeResult]:
    """Collect episodes ``indices`` at once in an :class:`envs.vector.EpisodeBatch` (env.backend, e.g. envpool),
    each row with its own policy, and save each atomically; same files as :func:`collect_one` (CarRacing)."""
    from envs.vector import EpisodeBatch

    seeds = [episode_seed(job.cfg.collect.seed, i) for i in indices]
    batch = EpisodeBatch(job.cfg, seeds, full_episode=True)
    try:
        policies = [make_policy(job, i, s) for i, s in zip(indices, seeds)]
        frames = batch.reset()
        record = [([], [], [], []) for _ in indices]  # frames, actions, rewards, dones
        idle = np.zeros(job.cfg.env.action_size, np.float32)
        for _ in range(job.max_frames):
            live = ~batch.done
            if not live.any():
                break
            actions = np.stack([policy(frame) if on else idle for policy, frame, on in zip(policies, frames, live)])
            for k in np.flatnonzero(live):
                record[k][0].append(frames[k])
                record[k][1].append(actions[k])
            frames, rewards, _ = batch.step(actions)
            for k in np.flatnonzero(live):
                record[k][2].append(rewards[k])
                record[k][3].append(bool(batch.terminated[k]))
    finally:
        batch.close()
    results = []
    for index, seed, lists in zip(indices, seeds, record):
        if not alive():
            break
        results.append(save_episode(job, index, seed, episode_arrays(*lists)))
    return results


# ---- worker processes ----------------------------------------------------------------------------------------
_WORKER: dict = {}


def _close_worker_env() -> None:
    env = _WORKER.pop("env", None)
    if env is not None:
        env.close()


def _on_sigterm(signum, frame) -> None:  # Pool.terminate(): close vizdoom (it ignores SIGTERM), then exit
    _close_worker_env()
    os._exit(128 + signum)


def _init_worker(job: Job, parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled by the parent
    signal.signal(signal.SIGTERM, _on_sigterm)
    _WORKER.update(job=job, parent_pid=parent_pid, env=None if job.batched else make_env(job))
    mp.util.Finalize(None, _close_worker_env, exitpriority=10)


def _alive() -> bool:
    """Whether the collecting process that started this worker still runs."""
    return os.getppid() == _WORKER["parent_pid"]


def _worker_collect(index: int) -> EpisodeResult | None:
    return collect_one(_WORKER["env"], _WORKER["job"], index, _alive) if _alive() else None


def _worker_collect_batch(indices: list[int]) -> list[EpisodeResult]:
    return collect_batch(_WORKER["job"], indices, _alive) if _alive() else []


# ---- checking what is there ------------------------------------------------------------------------------------
def quick_check(path: Path, action_size: int) -> int:
    """Validate an episode file from its zip directory and .npy headers; return its length T.

    Raises :class:`envs.episodes.CorruptEpisode`.
    """
    spec = episodes.rollout_spec(action_size)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {info.filename: info for info in zf.infolist()}
            length = None
            for key, (dtype, shape) in spec.items():
                info = infos.get(f"{key}.npy")
                if info is None:
                    raise episodes.CorruptEpisode(f"{path.name}: missing {key}")
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    arr_shape, _, arr_dtype = read(fh)
                    header = fh.tell()
                if arr_dtype != np.dtype(dtype) or len(arr_shape) != len(shape) or any(
                        s is not None and s != a for s, a in zip(shape, arr_shape)):
                    raise episodes.CorruptEpisode(f"{path.name}: {key} is {arr_dtype}{arr_shape}, expected "
                                                  f"{np.dtype(dtype)}{shape}")
                if info.file_size != header + int(np.prod(arr_shape)) * arr_dtype.itemsize:
                    raise episodes.CorruptEpisode(f"{path.name}: {key} has the wrong data size")
                if shape and shape[0] is None:
                    if length is None:
                        length = arr_shape[0]
                    elif arr_shape[0] != length:
                        raise episodes.CorruptEpisode(f"{path.name}: {key} has {arr_shape[0]} steps, others {length}")
    except episodes.CorruptEpisode:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise episodes.CorruptEpisode(f"{path.name}: unreadable ({type(err).__name__}: {err})") from None
    if not length:
        raise episodes.CorruptEpisode(f"{path.name}: empty episode")
    return int(length)


def full_check(path: Path, action_size: int) -> int:
    return len(episodes.load_rollout(path, action_size)["obs"])


def scan_existing(folder: Path, count: int, action_size: int, full: bool = False):
    """Check the files of indices 0..count-1: ({index: length} of the valid ones, [(path, error)] of the corrupt
    ones). Reads only; :func:`check_existing` acts on the corrupt ones."""
    check = full_check if full else quick_check
    good, bad = {}, []
    for path in episodes.list_episode_files(folder):
        index = episodes.episode_index(path)
        if index >= count:
            continue
        try:
            good[index] = check(path, action_size)
        except episodes.CorruptEpisode as err:
            bad.append((path, err))
    return good, bad


def check_existing(folder: Path, count: int, action_size: int, full: bool = False) -> dict[int, int]:
    """{index: length} of the valid files among indices 0..count-1; corrupt ones are reported and deleted."""
    good, bad = scan_existing(folder, count, action_size, full)
    for path, err in bad:
        print(f"collect: corrupt {err}; collecting it again", flush=True)
        path.unlink(missing_ok=True)
    return good


def is_complete(cfg: Config, run_dir: Path) -> bool:
    """Whether episodes 0..collect.episodes-1 are all there and whole (the quick check; nothing is changed)."""
    good, bad = scan_existing(RunLayout(run_dir).rollouts, cfg.collect.episodes, cfg.env.action_size)
    return not bad and len(good) == cfg.collect.episodes


# ---- the command ------------------------------------------------------------------------------------------------
def policy_factory(cfg: Config, run_dir: Path):
    """The factory of ``collect.policy`` (None for the random policy), looked up in POLICY_FACTORIES; it raises
    ConfigError (before anything is written) when it cannot play."""
    if cfg.collect.policy == "random":
        return None
    module, _, name = POLICY_FACTORIES[cfg.collect.policy].partition(":")
    return getattr(importlib.import_module(module), name)(cfg, Path(run_dir))


def batched(cfg: Config) -> bool:
    """Whether collection plays env.vector_envs episodes per worker at once: CarRacing with a vectorized env
    (envpool). Doom's short-episode retries need one env per episode, and gymnasium's CarRacing is no faster
    batched (its rendering is the cost)."""
    return cfg.experiment == "carracing" and cfg.env.backend == "envpool" and cfg.collect.min_frames == 0


def make_job(cfg: Config, run_dir: Path, factory=None) -> Job:
    return Job(cfg, str(RunLayout(run_dir).rollouts), factory, batched(cfg))


def _pooled(job: Job, workers: int, fn, items):
    """``fn`` over ``items`` in a spawned pool of ``workers`` processes (results as they finish)."""
    single_threaded_workers(force=False)  # the workers already fill the cores
    pool = mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(job, os.getpid()))
    try:
        yield from pool.imap_unordered(fn, items)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _results(job: Job, todo: list[int], workers: int, vector: int = 1):
    """Yield EpisodeResults for ``todo``: in this process when one worker suffices, else in a spawned pool;
    ``vector`` episodes at a time per worker when the job is batched."""
    if job.batched:
        chunks = [todo[i:i + vector] for i in range(0, len(todo), vector)]
        batches = (collect_batch(job, chunk) for chunk in chunks) if workers <= 1 else \
            _pooled(job, workers, _worker_collect_batch, chunks)
        for results in batches:
            yield from results
        return
    if workers <= 1:
        env = make_env(job)
        try:
            for index in todo:
                yield collect_one(env, job, index)
        finally:
            env.close()
        return
    yield from _pooled(job, workers, _worker_collect, todo)


def collect(cfg: Config, run_dir: Path, full: bool = False, factory=None) -> int:
    """Collect the missing episodes of ``cfg.collect`` into ``<run_dir>/rollouts`` with the random policy or
    ``factory`` (see :func:`policy_factory`); return an exit code."""
    from tqdm import tqdm

    total = cfg.collect.episodes
    COLLECTION.check(cfg.collect.seed, total, f"collect.seed {cfg.collect.seed}")
    job = make_job(cfg, run_dir, factory)
    folder = Path(job.folder)
    folder.mkdir(parents=True, exist_ok=True)
    removed = atomic.remove_temp_files(folder)
    if removed:
        print(f"collect: removed {len(removed)} temp file(s) left by an interrupted run", flush=True)
    lengths = check_existing(folder, total, cfg.env.action_size, full)
    todo = [i for i in range(total) if i not in lengths]
    if not todo:
        print(f"collect: complete ({total} episodes)", flush=True)
        return 0
    vector = cfg.env.vector_envs if job.batched else 1
    workers = max(1, min(cfg.collect.workers, -(-len(todo) // vector)))
    print(f"collect: {cfg.experiment}, {len(todo)} of {total} episodes to collect "
          f"({len(lengths)} present), {workers} worker(s)"
          f"{f' x {vector} envs ({cfg.env.backend})' if vector > 1 else ''}, up to {job.max_frames} frames each",
          flush=True)
    new_frames = discarded_frames = retries = 0
    start = time.monotonic()
    with stage_timer(run_dir, "collect"):
        bar = tqdm(total=total, initial=len(lengths), unit="ep", desc="collect", dynamic_ncols=True)
        try:
            for result in _results(job, todo, workers, vector):
                if result is None:
                    continue
                lengths[result.index] = result.frames
                new_frames += result.frames
                discarded_frames += result.discarded_frames
                retries += result.attempts - 1
                bar.update(1)
                bar.set_postfix(fps=f"{(new_frames + discarded_frames) / (time.monotonic() - start):.0f}")
        finally:
            bar.close()
    wall = time.monotonic() - start
    missing = [i for i in range(total) if i not in lengths]
    if missing:
        print(f"collect: {len(missing)} episodes missing (first {missing[0]}); re-run to finish", flush=True)
        return 1
    summarize(folder, lengths, total)
    stepped = new_frames + discarded_frames
    print(f"collect: this run {len(todo)} episodes, {new_frames} frames kept, {discarded_frames} frames in "
          f"{retries} discarded short episodes, {wall:.1f} s wall, {stepped / max(wall, 1e-9):.1f} env frames/s "
          f"with {workers} worker(s)", flush=True)
    return 0


def summarize(folder: Path, lengths: dict[int, int], total: int) -> None:
    values = np.array([lengths[i] for i in range(total)])
    size = sum(episodes.episode_path(folder, i).stat().st_size for i in range(total))
    print(f"collect: {total} episodes, {int(values.sum())} frames, length mean {values.mean():.1f} "
          f"max {int(values.max())} min {int(values.min())}, {size / 1e6:.1f} MB on disk in {folder}", flush=True)
