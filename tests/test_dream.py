"""DoomDreamEnv (envs/dream.py) and BatchedDream (controller/dream.py) on a small M (Nz 4, Nh 16).

The death bias of M's head (output 0) is set by hand: a random M's death logit stays within about ±0.3 of its
bias, so a bias of +5 kills on the first step, -1e9 never, and a value near the logit's own range gives a
spread of episode lengths.
"""
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env, data_equivalence

from controller.dream import BatchedDream, bucket_sizes
from controller.model import ControllerShape, act, observation
from envs.dream import DoomDreamEnv
from rnn.model import MDNRNN
from vae.model import ConvVAE

Z, H = 4, 16
SHAPE = ControllerShape("zch", Z, H, 1, use_bias=False)
ENV_ID = "worldmodels/DoomDream-v0"  # registered by envs/__init__.py (imported with envs.dream above)


def small_rnn(death_bias: float, seed: int = 0) -> MDNRNN:
    rnn = MDNRNN(Z, 1, H, 5, predict_death=True, seed=seed)
    bias = rnn.output_b.numpy()
    bias[0] = death_bias
    rnn.output_b.assign(bias)
    return rnn


def initial_z(n: int = 20):
    rng = np.random.default_rng(1)
    return rng.normal(size=(n, Z)).astype(np.float32), rng.normal(-2, 0.5, size=(n, Z)).astype(np.float32)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run dir with <run>/rnn/model.keras (death never predicted) and <run>/series/initial_z.npz."""
    run = tmp_path_factory.mktemp("run")
    (run / "rnn").mkdir()
    (run / "series").mkdir()
    small_rnn(-1e9).save(run / "rnn" / "model.keras")
    (run / "vae").mkdir()
    ConvVAE(z_size=Z).save(run / "vae" / "model.keras")  # check_env also re-makes the env with rgb_array
    mu, logvar = initial_z()
    np.savez(run / "series" / "initial_z.npz", mu=mu, logvar=logvar)
    return run


def make_kwargs(run):
    return dict(rnn_path=str(run / "rnn" / "model.keras"), initial_z_path=str(run / "series" / "initial_z.npz"))


def test_check_env_passes_with_only_the_unbounded_box_warning(run_dir):
    env = gym.make(ENV_ID, vae_path=str(run_dir / "vae" / "model.keras"), **make_kwargs(run_dir))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    allowed = ("observation space minimum value is -infinity", "observation space maximum value is infinity")
    unexpected = [str(w.message) for w in caught if not any(a in str(w.message) for a in allowed)]
    assert not unexpected, unexpected
    assert env.spec.max_episode_steps == 2100
    env.close()
    env.close()  # safe twice


def test_render_decodes_z_with_v(run_dir):
    env = DoomDreamEnv(**make_kwargs(run_dir), vae_path=str(run_dir / "vae" / "model.keras"), render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8


def test_observation_is_z_c_h_in_that_order(run_dir):
    env = DoomDreamEnv(**make_kwargs(run_dir), temperature=1.0)
    obs, _ = env.reset(seed=3)
    assert obs.shape == (Z + 2 * H,) and obs.dtype == np.float32
    assert np.all(obs[Z:] == 0)  # c = h = 0 at reset
    z0 = obs[:Z].copy()
    obs, reward, terminated, truncated, _ = env.step(np.array([0.5], np.float32))
    # Recompute M's state from (z0, a, restart=1): obs[Z:Z+H] must be c, obs[Z+H:] h.
    _, h, c = env.rnn.step(z0[None], np.array([[0.5]], np.float32), np.ones([1], np.float32),
                           np.zeros([1, H], np.float32), np.zeros([1, H], np.float32))
    np.testing.assert_allclose(obs[Z:Z + H], np.asarray(c)[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(obs[Z + H:], np.asarray(h)[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(np.asarray(c), np.asarray(h))  # the test can tell c from h
    assert type(reward) is float and reward == 1.0
    assert type(terminated) is bool and type(truncated) is bool and not terminated and not truncated


def test_same_seed_repeats_exactly(run_dir):
    def run(seed):
        env = DoomDreamEnv(**make_kwargs(run_dir))
        out = [env.reset(seed=seed)[0]]
        for t in range(20):
            out.append(env.step(np.array([np.sin(t)], np.float32))[0])
        return out

    assert data_equivalence(run(7), run(7), exact=True)
    assert not np.array_equal(run(7)[-1], run(8)[-1])


def test_terminated_exactly_when_death_logit_positive():
    mu, logvar = initial_z()
    dies = DoomDreamEnv.from_models(small_rnn(+5.0), mu, logvar)
    dies.reset(seed=0)
    _, reward, terminated, truncated, _ = dies.step(np.zeros(1, np.float32))
    assert terminated and not truncated and reward == 1.0  # the terminal step is rewarded too
    lives = DoomDreamEnv.from_models(small_rnn(-5.0), mu, logvar)
    lives.reset(seed=0)
    for _ in range(50):
        assert not lives.step(np.zeros(1, np.float32))[2]


@pytest.mark.parametrize("bias", [0.3, -0.3])
def test_terminated_matches_the_sign_of_the_death_logit(bias):
    """Step by step, terminated == (M's death logit for that step > 0), whatever the sampled path."""
    mu, logvar = initial_z()
    env = DoomDreamEnv.from_models(small_rnn(bias, seed=2), mu, logvar)
    obs, _ = env.reset(seed=1)
    restart = 1.0
    for t in range(40):
        z, c, h = obs[:Z], obs[Z:Z + H], obs[Z + H:]
        a = np.array([np.cos(t)], np.float32)
        out, _, _ = env.rnn.step(z[None], a[None], np.array([restart], np.float32), h[None], c[None])
        obs, _, terminated, _, _ = env.step(a)
        assert terminated == bool(np.asarray(out.death_logit)[0] > 0)
        restart = 1.0 if terminated else 0.0


def test_truncation_at_max_steps_by_time_limit(run_dir):
    env = gym.make(ENV_ID, max_episode_steps=30, **make_kwargs(run_dir))
    env.reset(seed=0)
    for t in range(30):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        assert not terminated and truncated == (t == 29)


def test_bad_action_and_missing_files(run_dir, tmp_path):
    env = DoomDreamEnv(**make_kwargs(run_dir))
    env.reset(seed=0)
    with pytest.raises(gym.error.InvalidAction):
        env.step(np.array([0.1, 0.2], np.float32))
    with pytest.raises(ValueError, match="not found"):
        DoomDreamEnv(rnn_path=str(tmp_path / "missing.keras"), initial_z_path=make_kwargs(run_dir)["initial_z_path"])


# ---------------------------------------------------------------------------------------------- BatchedDream
def one_env_lengths(rnn, params, episodes, max_steps, temperature, seed=0):
    """Reference: DoomDreamEnv one episode at a time with C = act(params) on [z, c, h]."""
    mu, logvar = initial_z()
    env = DoomDreamEnv.from_models(rnn, mu, logvar, temperature=temperature)
    lengths = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        total = 0.0
        for _ in range(max_steps):
            z, c, h = obs[None, :Z], obs[None, Z:Z + H], obs[None, Z + H:]
            a = np.asarray(act(params, observation(z, c, h, SHAPE), SHAPE))[0]
            obs, reward, terminated, _, _ = env.step(a)
            total += reward
            if terminated:
                break
        lengths.append(total)
    return np.array(lengths)


def ks_statistic(a, b):
    grid = np.union1d(a, b)
    cdf_a = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


@pytest.mark.slow
def test_batched_agrees_in_distribution_with_one_env():
    """(XLA, the production path.) Two-sample KS test, plus a check that it can fail: a different temperature is
    detected."""
    rnn = small_rnn(-0.12, seed=0)
    mu, logvar = initial_z()
    params = np.random.default_rng(5).normal(0, 0.5, SHAPE.num_params).astype(np.float32)
    max_steps = 60
    single = one_env_lengths(rnn, params, 100, max_steps, temperature=1.15)
    # Buckets of 600, 300 and 150 rows: compaction runs, with a fraction of the branches XLA compiles at min_bucket 4.
    dream = BatchedDream(rnn, mu, logvar, SHAPE, 1.15, max_steps, segment_steps=4, min_bucket=150, bucket_ratio=0.5)
    batched = dream.rollout(params[None], 600, seed=11).lengths.ravel()
    assert 3 < single.mean() < max_steps - 3 and single.std() > 3, "fixture must give a spread of lengths"
    n, m = len(single), len(batched)
    critical = 1.63 * np.sqrt((n + m) / (n * m))  # KS at alpha = 0.01
    assert ks_statistic(single, batched) < critical, (single.mean(), batched.mean())
    # Not vacuous: the same test tells apart a different temperature.
    hot = BatchedDream(rnn, mu, logvar, SHAPE, 4.0, max_steps, segment_steps=4, min_bucket=150, bucket_ratio=0.5)
    other = hot.rollout(params[None], 600, seed=11).lengths.ravel()
    assert ks_statistic(single, other) > critical, (single.mean(), other.mean())


def test_batched_seeded_runs_repeat_and_seeds_differ():
    rnn = small_rnn(-0.12)
    mu, logvar = initial_z()
    params = np.random.default_rng(0).normal(0, 0.5, (3, SHAPE.num_params)).astype(np.float32)
    dream = BatchedDream(rnn, mu, logvar, SHAPE, 1.15, 80, segment_steps=4, min_bucket=4, jit_compile=False)
    first = dream.rollout(params, 8, seed=4)
    again = dream.rollout(params, 8, seed=4)
    assert first.returns.shape == (3, 8) and first.returns.dtype == np.float32
    assert first.lengths.shape == (3, 8) and first.lengths.dtype == np.int32
    np.testing.assert_array_equal(first.lengths, again.lengths)
    assert not np.array_equal(first.lengths, dream.rollout(params, 8, seed=5).lengths)
    np.testing.assert_array_equal(first.returns, first.lengths.astype(np.float32))  # reward 1 per step


@pytest.mark.parametrize("jit", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_compaction_does_not_change_results(jit):
    """Plain graph and XLA (the production path; ~20 s of compiling). Buckets only change how many rows run; the
    rollouts (and their noise) are the same, exactly. The default ratio's buckets: 64, 48, 36, 27, 21, 16."""
    rnn = small_rnn(-0.12)
    mu, logvar = initial_z()
    params = np.random.default_rng(1).normal(0, 0.5, (4, SHAPE.num_params)).astype(np.float32)
    kwargs = dict(segment_steps=4, min_bucket=16, jit_compile=jit)
    compacted = BatchedDream(rnn, mu, logvar, SHAPE, 1.15, 100, compact=True, **kwargs).rollout(params, 16, 9)
    full = BatchedDream(rnn, mu, logvar, SHAPE, 1.15, 100, compact=False, **kwargs).rollout(params, 16, 9)
    assert compacted.lengths.std() > 3  # rollouts end at different times, so buckets really shrink
    np.testing.assert_array_equal(compacted.lengths, full.lengths)


def test_truncation_accounting_at_max_steps():
    mu, logvar = initial_z()
    params = np.zeros((2, SHAPE.num_params), np.float32)
    never = BatchedDream(small_rnn(-1e9), mu, logvar, SHAPE, 1.15, 37, segment_steps=5, jit_compile=False)
    result = never.rollout(params, 3, seed=0)
    np.testing.assert_array_equal(result.lengths, np.full((2, 3), 37))
    np.testing.assert_array_equal(result.returns, np.full((2, 3), 37.0))
    always = BatchedDream(small_rnn(+5.0), mu, logvar, SHAPE, 1.15, 37, jit_compile=False).rollout(params, 3, seed=0)
    np.testing.assert_array_equal(always.lengths, np.ones((2, 3)))  # the dying step counts: return 1
    one = BatchedDream(small_rnn(-1e9), mu, logvar, SHAPE, 1.15, 1, jit_compile=False).rollout(params, 2, seed=0)
    np.testing.assert_array_equal(one.lengths, np.ones((2, 2)))


def test_death_logit_moves_the_death_threshold():
    """es.death_logit: the same M, whose death logit is about -50, never dies at the authors' threshold 0 and dies
    on the first step at -100."""
    mu, logvar = initial_z()
    params = np.zeros((2, SHAPE.num_params), np.float32)
    rnn = small_rnn(-50.0)
    authors = BatchedDream(rnn, mu, logvar, SHAPE, 1.15, 20, jit_compile=False).rollout(params, 3, seed=0)
    np.testing.assert_array_equal(authors.lengths, np.full((2, 3), 20))
    wary = BatchedDream(rnn, mu, logvar, SHAPE, 1.15, 20, jit_compile=False, death_logit=-100.0)
    np.testing.assert_array_equal(wary.rollout(params, 3, seed=0).lengths, np.ones((2, 3)))


def test_dream_backend_reads_death_logit_from_the_config(run_dir):
    """The training dream (controller.backends.DreamBackend) takes the threshold from es.death_logit."""
    from common.config import make_config
    from controller.backends import DreamBackend

    sizes = {"vae.z_size": Z, "rnn.hidden_size": H, "controller.inputs": "zch", "controller.use_bias": False}
    assert DreamBackend(make_config("doom", "tiny", sizes), run_dir, 1.15).dreams[0].death_logit == 0.0
    wary = DreamBackend(make_config("doom", "tiny", {**sizes, "es.death_logit": -1.0}), run_dir, 1.15)
    assert wary.dreams[0].death_logit == -1.0


def test_split_rollouts_is_even_and_keeps_the_count():
    from controller.backends import split_rollouts

    assert split_rollouts(16, 1) == [16]
    assert split_rollouts(16, 2) == [8, 8]
    assert split_rollouts(5, 2) == [3, 2]
    assert split_rollouts(1, 3) == [1, 0, 0]


def test_ensemble_dream_splits_each_candidates_rollouts_across_the_ms(run_dir, tmp_path):
    """es.dream_models: run_dir's M never dies and the second M (same V file) kills on the first step, so the first
    half of every candidate's rollouts lasts max_steps and the second half 1 step; fitness is their mean."""
    import shutil

    from common.config import ConfigError, make_config
    from controller.backends import DreamBackend

    other = tmp_path / "other"
    (other / "rnn").mkdir(parents=True)
    small_rnn(+5.0).save(other / "rnn" / "model.keras")
    (other / "vae").mkdir()
    shutil.copy(run_dir / "vae" / "model.keras", other / "vae" / "model.keras")
    sizes = {"vae.z_size": Z, "rnn.hidden_size": H, "controller.inputs": "zch", "controller.use_bias": False,
             "env.max_steps": 20, "es.num_rollouts": 4, "es.dream": True}
    backend = DreamBackend(make_config("doom", "tiny", {**sizes, "es.dream_models": str(other)}), run_dir, 1.15)
    params = np.zeros((3, SHAPE.num_params), np.float32)
    returns, lengths = backend.rollouts(params, [7, 8, 9])
    np.testing.assert_array_equal(lengths, np.tile([20, 20, 1, 1], (3, 1)))
    np.testing.assert_array_equal(returns.mean(axis=1), np.full(3, 10.5))
    returns, _ = backend.evaluate(params[0], [1, 2, 3])
    np.testing.assert_array_equal(returns, [20, 20, 1])
    # An M trained on another V reads other latents: refused before any rollout.
    ConvVAE(z_size=Z, seed=1).save(other / "vae" / "model.keras")
    with pytest.raises(ConfigError, match="another V"):
        DreamBackend(make_config("doom", "tiny", {**sizes, "es.dream_models": str(other)}), run_dir, 1.15)
    with pytest.raises(ConfigError, match="does not exist"):
        DreamBackend(make_config("doom", "tiny", {**sizes, "es.dream_models": str(tmp_path / "none")}), run_dir,
                     1.15)
    with pytest.raises(ConfigError, match="es.dream"):
        make_config("doom", "tiny", {**sizes, "es.dream": False, "es.dream_models": str(other)})


def test_bad_input_and_buckets():
    mu, logvar = initial_z()
    dream = BatchedDream(small_rnn(0.0), mu, logvar, SHAPE, 1.15, 10)
    with pytest.raises(ValueError, match="params must be"):
        dream.rollout(np.zeros((2, 5), np.float32), 2, seed=0)
    with pytest.raises(ValueError, match="initial_mu"):
        BatchedDream(small_rnn(0.0), mu[:, :2], logvar, SHAPE, 1.15, 10)
    with pytest.raises(ValueError, match="bucket_ratio"):
        BatchedDream(small_rnn(0.0), mu, logvar, SHAPE, 1.15, 10, bucket_ratio=1.0)
    assert bucket_sizes(1024) == [1024, 768, 576, 432, 324, 243, 183, 138, 104, 78, 59, 45, 34, 26, 20, 16]
    assert bucket_sizes(1024, ratio=0.5) == [1024, 512, 256, 128, 64, 32, 16]
    assert bucket_sizes(24, 4, 0.5) == [24, 12, 6, 4]
    with pytest.raises(ValueError, match="ratio"):
        bucket_sizes(24, 4, 0.0)
