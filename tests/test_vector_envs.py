"""Batched real-game episodes (envs/vector.py, Agent.play): the v0 episode rule, envpool beside gymnasium (frames
and scores alike in distribution), one episode per row whatever shares its batch, and the backends' errors."""
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from common.config import ConfigError, make_config
from controller.model import controller_shape
from envs.vector import EpisodeBatch


def car_cfg(**overrides):
    return make_config("carracing", "tiny", {"rnn.hidden_size": 32, **overrides})


def touch_start_tile(env, visited_share: float) -> None:
    """Mark ``visited_share`` of the track visited, then let a wheel touch tile 0 through the env's own contact
    listener (what Box2D calls when the car crosses the start line)."""
    car = env.unwrapped._env
    tiles = car.road
    count = int(visited_share * len(tiles))
    for i, tile in enumerate(tiles):
        tile.road_visited = 0 < i < count  # the start tile too is not yet visited
    car.tile_visited_count = count - 1
    wheel = SimpleNamespace(tiles=set())
    contact = SimpleNamespace(fixtureA=SimpleNamespace(body=SimpleNamespace(userData=tiles[0])),
                              fixtureB=SimpleNamespace(body=SimpleNamespace(userData=wheel)))
    car.contactListener_keepref._contact(contact, True)
    assert car.tile_visited_count == count


@pytest.mark.parametrize("percent, ends", [(1.0, False), (0.95, True)])
def test_v0_rule_ignores_the_start_line(percent, ends):
    """v0 (lap_complete_percent 1.0): crossing the start line with 96% of the tiles visited does not end the
    episode; gymnasium v3's 0.95 ends it there. Every tile visited ends it under both."""
    from envs import make_env

    env = make_env(make_config("carracing", "paper", {"env.lap_complete_percent": percent}))
    try:
        env.reset(seed=3)
        touch_start_tile(env, 0.96)
        _, _, terminated, _, _ = env.step(np.zeros(3, np.float32))
        assert terminated == ends
        car = env.unwrapped._env
        car.tile_visited_count = len(car.track)
        _, _, terminated, _, _ = env.step(np.zeros(3, np.float32))
        assert terminated
    finally:
        env.close()


def test_default_episode_rule_is_v0_in_both_backends():
    cfg = make_config("carracing", "paper")
    assert cfg.env.lap_complete_percent == 1.0
    batch = EpisodeBatch(cfg, [1, 2], "envpool")
    try:
        assert batch._pool.config["lap_complete_percent"] == 1.0  # the C++ env's rule is gymnasium's (count > N*p)
        assert batch._pool.config["max_episode_steps"] == cfg.env.max_steps
    finally:
        batch.close()


class ScriptedEnv:
    """A stand-in env whose step rewards are a given list, truncated after the last (the cut's arithmetic, without
    Box2D's physics)."""

    def __init__(self, rewards):
        self.rewards, self.t = list(rewards), 0

    def reset(self, seed=None):
        self.t = 0
        return np.zeros((64, 64, 3), np.uint8), {}

    def step(self, action):
        self.t += 1
        return np.zeros((64, 64, 3), np.uint8), self.rewards[self.t - 1], False, self.t == len(self.rewards), {}

    def close(self):
        pass


def test_negative_streak_ends_an_episode_after_more_than_n_negative_steps_in_a_row():
    """N = 3: a tile (+) resets the count; the 4th negative step in a row is the episode's last. N = 0 plays on."""
    rewards = [3.0, -0.1, -0.1, -0.1, 3.0, -0.1, -0.1, -0.1, -0.1, 3.0, 3.0]
    lengths = {}
    for n in (3, 0):
        batch = EpisodeBatch(car_cfg(), [1], "gymnasium", negative_streak=n)
        batch._envs = [ScriptedEnv(rewards)]
        batch.reset()
        total = 0.0
        while not batch.done.all():
            total += batch.step(np.zeros((1, 3), np.float32))[1][0]
        lengths[n] = (int(batch.steps[0]), round(total, 6))
    assert lengths[3] == (9, round(sum(rewards[:9]), 6))
    assert lengths[0] == (11, round(sum(rewards), 6))


def test_only_training_rollouts_carry_the_negative_streak():
    """CMA-ES's candidates play cut episodes (es.negative_streak); the CMA mean's evaluations play whole ones."""
    from controller.backends import TaskBackend

    class Recorder(TaskBackend):
        def __init__(self, cfg):
            self.cfg, self.tasks = cfg, []

        def map(self, tasks):
            self.tasks += tasks
            return [(np.zeros(len(seeds)), np.ones(len(seeds))) for _, seeds, _ in tasks]

    cfg = car_cfg(**{"es.negative_streak": 20})
    backend = Recorder(cfg)
    params = np.zeros((2, controller_shape(cfg).num_params), np.float32)
    backend.rollouts(params, [5, 6])
    assert {task[2] for task in backend.tasks} == {20}
    backend.tasks = []
    backend.evaluate(params[0], [7, 8, 9])
    assert {task[2] for task in backend.tasks} == {0}


def frames_of(backend: str, seeds, steps: int = 60) -> np.ndarray:
    cfg = make_config("carracing", "paper", {"env.max_steps": steps})
    batch = EpisodeBatch(cfg, seeds, backend)
    action = np.tile(np.array([[0.0, 0.3, 0.0]], np.float32), (len(seeds), 1))
    try:
        frames = [batch.reset()]
        while not batch.done.all():
            frames.append(batch.step(action)[0])
        return np.stack(frames)
    finally:
        batch.close()


def colour_histogram(frames: np.ndarray) -> np.ndarray:
    return np.stack([np.histogram(frames[..., k], bins=16, range=(0, 256))[0] for k in range(3)]) / frames[..., 0].size


def test_envpool_frames_look_like_gymnasiums():
    """After the same crop and resize, envpool's frames have gymnasium's colours, past the zoom-in (frames 50..99
    of 6 tracks each). Measured on these seeds: between the two envs the L1 distance of the 16-bin colour
    histograms (0..6) is 0.07-0.11 and the channel means differ by <= 3 levels of 255 (envpool anti-aliases a
    little differently); between two sets of gymnasium tracks it is 0.05. Stated tolerance: 0.2 and 5 levels."""
    gym = frames_of("gymnasium", range(100, 106), 100)[50:]
    pool = frames_of("envpool", range(100, 106), 100)[50:]
    assert pool.shape == gym.shape and pool.dtype == np.uint8
    apart = np.abs(colour_histogram(gym) - colour_histogram(pool)).sum()
    assert apart < 0.2, apart
    assert np.abs(gym.mean(axis=(0, 1, 2, 3)) - pool.mean(axis=(0, 1, 2, 3))).max() < 5.0


def test_one_controller_scores_alike_in_both_envs(car_run):
    """A controller that drives straight (bias only) scores the same in envpool and gymnasium within noise:
    the two means differ by less than 3 standard errors of their difference."""
    from controller.agent import Agent

    cfg = car_cfg(**{"env.max_steps": 150})
    agent = Agent(car_run, cfg, threads=None, with_env=False)
    params = np.zeros((12, controller_shape(cfg).num_params), np.float32)
    params[:, :3] = [0.0, 0.2, -1.0]
    seeds = list(range(10_000_000, 10_000_012))
    gym_returns, gym_lengths = agent.play(params, seeds, "gymnasium")
    pool_returns, pool_lengths = agent.play(params, seeds, "envpool")
    assert (gym_lengths == 150).all() and (pool_lengths == 150).all()
    se = np.sqrt(gym_returns.var(ddof=1) / 12 + pool_returns.var(ddof=1) / 12)
    assert abs(gym_returns.mean() - pool_returns.mean()) < 3 * se + 1.0, (gym_returns, pool_returns)
    assert gym_returns.std() > 0  # the tracks differ, so the statistic has a spread to compare against


def test_each_row_is_its_own_episode(car_run):
    """Rows with the same seed and controller play the same episode; an episode played alone (batch 1) gives the
    batched row's return; a finished row stays finished with reward 0."""
    from controller.agent import Agent

    cfg = car_cfg(**{"env.max_steps": 40})
    agent = Agent(car_run, cfg, threads=None)
    rng = np.random.default_rng(0)
    params = rng.normal(0, 0.5, (3, controller_shape(cfg).num_params)).astype(np.float32)
    params[2] = params[0]
    returns, lengths = agent.play(params, [5, 6, 5], "gymnasium")
    assert returns[0] == returns[2] and (lengths == 40).all()
    alone, steps = agent.episode(params[1], 6)
    assert steps == 40 and abs(alone - returns[1]) < 1e-3
    try:
        batch = EpisodeBatch(make_config("carracing", "paper", {"env.max_steps": 3}), [1, 2], "envpool")
        batch.reset()
        for _ in range(3):
            _, rewards, done = batch.step(np.zeros((2, 3), np.float32))
        assert done.all()
        frames, rewards, done = batch.step(np.zeros((2, 3), np.float32))
        assert (rewards == 0).all() and done.all() and (batch.steps == 3).all()
    finally:
        batch.close()
        agent.env.close()


def test_unknown_backend_and_missing_envpool_are_config_errors(monkeypatch):
    with pytest.raises(ConfigError, match="env.backend must be one of gymnasium, envpool"):
        make_config("carracing", "tiny", {"env.backend": "gpu"})
    with pytest.raises(ConfigError, match="envpool ships CarRacing, not doom"):
        make_config("doom", "tiny", {"env.backend": "envpool"})
    monkeypatch.setitem(sys.modules, "envpool", None)  # import envpool raises ImportError
    with pytest.raises(ConfigError, match="pip install envpool"):
        EpisodeBatch(make_config("carracing", "tiny", {"env.backend": "envpool"}), [1])


def test_missing_box2d_is_a_config_error(monkeypatch):
    from envs import make_env

    monkeypatch.setitem(sys.modules, "gymnasium.envs.box2d.car_racing", None)
    with pytest.raises(ConfigError, match="box2d"):
        make_env(make_config("carracing", "tiny"))
