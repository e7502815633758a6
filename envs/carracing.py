"""CarRacing with the authors' observation pipeline: gymnasium CarRacing-v3 (continuous), frames 64x64x3 uint8.

## Observation Space
``Box(0, 255, (64, 64, 3), uint8)``: the 96x96 RGB state frame, rows 0..83 kept (rows 84..95 are the indicator
bar in CarRacing-v3, checked on real frames: they are black with coloured gauges), all 96 columns, resized to
64x64 with PIL bilinear (:func:`envs.frames.crop_resize`). No per-frame contrast stretch, no v-1 artefact.

## Action Space
``Box([-1, 0, 0], [1, 1, 1], (3,), float32)``: steer, gas, brake (CarRacing-v3's continuous space).

## Rewards
CarRacing-v3's: -0.1 per step, +1000/N per new track tile, -100 when leaving the playfield.

## Episode Termination
The paper's CarRacing-v0 rule by default: every tile visited, or off the playfield (``lap_complete_percent=1.0``
switches off v3's extra end at the start line once 95% of the tiles are visited; pass 0.95 for plain v3). The
1000-step cap is the registration's ``max_episode_steps``. ``full_episode=True`` (used for the random-rollout data,
as the authors' extract step) reports ``terminated=False`` always, so an episode only ends at the step cap.

## Render
``render()`` returns the current 64x64x3 observation (what V sees), render_mode ``"rgb_array"`` only.

## Seeding
``reset(seed=s)`` seeds CarRacing-v3's ``np_random`` and so the track.
"""
from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # headless: before pygame is imported

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.frames import SIZE, crop_resize

CROP_ROWS = 84  # rows 0..83 of 96; 84..95 hold the indicator bar
STEP_REWARD = -0.1  # CarRacing-v3's reward per step (none for the frame reset() returns)
TRACK_REWARD = 1000.0  # +1000/N for each of a track's N tiles


def tiles_visited(score: float, steps: int) -> float:
    """The fraction of its track's tiles an episode visited, from its score and length: 1.0 for a finished lap
    (the v0 rule's end), exact for any episode that stayed on the playfield; one that left it comes out about 0.1
    lower (its last step's reward is -100, in place of that step's tiles and step cost)."""
    return (score - STEP_REWARD * steps) / TRACK_REWARD


class CarRacing64Env(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, render_mode: str | None = None, full_episode: bool = False, domain_randomize: bool = False,
                 lap_complete_percent: float = 1.0):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        try:
            from gymnasium.envs.box2d.car_racing import CarRacing
        except (ImportError, gym.error.DependencyNotInstalled) as err:
            raise gym.error.DependencyNotInstalled(
                f'CarRacing needs box2d: pip install "gymnasium[box2d]" ({err})') from err
        self.render_mode = render_mode
        self.full_episode = full_episode
        self._env = CarRacing(render_mode="rgb_array", continuous=True, domain_randomize=domain_randomize,
                              lap_complete_percent=lap_complete_percent)
        self.observation_space = spaces.Box(0, 255, (SIZE, SIZE, 3), np.uint8)
        self.action_space = spaces.Box(np.array([-1, 0, 0], np.float32), np.array([1, 1, 1], np.float32),
                                       dtype=np.float32)
        self._obs = np.zeros((SIZE, SIZE, 3), np.uint8)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        frame, info = self._env.reset(seed=seed, options=options)
        self._obs = crop_resize(frame, CROP_ROWS)
        return self._obs, info

    def step(self, action):
        action = np.asarray(action, np.float32).reshape(3)
        frame, reward, terminated, truncated, info = self._env.step(action)
        self._obs = crop_resize(frame, CROP_ROWS)
        if self.full_episode:
            terminated = False
        return self._obs, float(reward), bool(terminated), bool(truncated), info

    @property
    def track(self) -> np.ndarray:
        """The current track (after ``reset``), one row per tile: (angle around the centre, heading in radians, x,
        y). A lap's 1000 points are split over its tiles."""
        return np.asarray(self._env.track, np.float64)

    def car_state(self) -> dict:
        """The car now (after ``reset`` or ``step``): ``x``, ``y``, ``heading`` (radians, as a tile's heading in
        :attr:`track`: the car starts on tile 0 facing along it; not wrapped), ``speed`` (world units per second),
        ``wheels_on_road`` (how many of its four wheels touch a road tile: 0 is off the road), what the last step
        applied (``steer`` of the front wheels, the game's sign; ``gas`` of the rear wheels, which the game raises
        by at most 0.1 a step; ``brake``, which locks the wheels from 0.9 on) and ``skidding`` (wheels whose force
        exceeds twice their grip: the game's skid marks)."""
        car = self._env.car
        x, y = car.hull.position
        front, rear = car.wheels[0], car.wheels[2]
        return {"x": float(x), "y": float(y), "heading": float(car.hull.angle),
                "speed": float(np.hypot(*car.hull.linearVelocity)),
                "wheels_on_road": sum(1 for wheel in car.wheels if wheel.tiles),
                "steer": float(front.steer), "gas": float(rear.gas), "brake": float(front.brake),
                "skidding": sum(1 for w in car.wheels if w.skid_start is not None or w.skid_particle is not None)}

    def render(self):
        return self._obs.copy() if self.render_mode == "rgb_array" else None

    def close(self):
        if getattr(self, "_env", None) is not None:
            self._env.close()
            self._env = None
