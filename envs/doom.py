"""VizDoom TakeCover at the authors' settings, frames 64x64x3 uint8, one continuous action by thirds.

Built on vizdoom's own gymnasium env (the class behind ``VizdoomTakeCover-v1``, ``take_cover.cfg``), with these
settings changed to match the authors' ppaquette env (spec §1.4):

- ``doom_skill`` 4 by default (constructor argument ``skill``; config ``env.doom_skill``). The authors' env asked
  for skill 5, but skill 5 of vizdoom 1.3 is another game: a random policy survives 65.8 +- 18.5 steps there
  (uniform action per step) against the paper's 210 +- 108, while skill 4 gives 209.9 +- 95.9 (skills 3 and 4
  play alike). ``python bench/doom_skill.py`` re-measures it; README "Deviations";
- ``render_hud = true`` so the bottom status bar is drawn (rows 208..239 of the 320x240 screen in vizdoom 1.3.2)
  and the authors' crop (rows 0..399 of 480, here rows 0..199 of 240) removes it;
- ``episode_timeout = 0`` (no vizdoom timeout): the 2100-step cap is the registration's ``max_episode_steps``,
  so a truncation at 2100 comes from gymnasium's ``TimeLimit`` and nothing ends an episode earlier but death;
- 320x240 RGB24 screen, one tic per step (frame_skip 1, 35 steps per game second), as the cfg;
- the doom ini file goes to the temp folder, not the working directory.

## Observation Space
``Box(0, 255, (64, 64, 3), uint8)``: screen rows 0..199 (all 320 columns) resized to 64x64 with PIL bilinear
(:func:`envs.frames.crop_resize`). After the fatal step the game has no screen: that observation is all zeros
(as the authors' env).

## Action Space
``Box(-1, 1, (1,), float32)``. a < -0.3333 presses MOVE_LEFT, a > 0.3333 presses MOVE_RIGHT, anything else
presses nothing (``doomreal.py``'s constant 0.3333, strict inequalities, compared in float64). The buttons are
found by name in the game's button list (the modern cfg lists MOVE_LEFT first; ppaquette's listed MOVE_RIGHT first).

## Rewards
1.0 for every step (the cfg's living reward), so the return equals the number of steps survived.

## Episode Termination
``terminated`` when the player dies; ``truncated`` at 2100 steps by the registration's ``TimeLimit``.

## Seeding
``reset(seed=s)`` seeds the wrapper's ``np_random``; vizdoom's env draws the game seed (``DoomGame.set_seed``)
from it, so the same ``s`` replays the same game. (The authors did not seed the game.)
"""
from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # headless: before pygame (imported by vizdoom's wrapper)

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.frames import SIZE, crop_resize

CROP_ROWS = 200  # rows 0..199 of 240; the status bar is rows 208..239
THRESHOLD = 0.3333
SKILL = 4  # see the module docstring: behaves as the authors' skill-5 env did
LEFT, STAY, RIGHT = -1, 0, 1


def action_direction(action) -> int:
    """The thirds rule: -1 (MOVE_LEFT) below -0.3333, +1 (MOVE_RIGHT) above +0.3333, else 0."""
    a = float(np.asarray(action, np.float64).reshape(-1)[0])
    if a < -THRESHOLD:
        return LEFT
    if a > THRESHOLD:
        return RIGHT
    return STAY


class TakeCover64Env(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 35}

    def __init__(self, render_mode: str | None = None, skill: int = SKILL):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        try:
            import vizdoom
            from vizdoom.gymnasium_wrapper.gymnasium_env_defns import VizdoomScenarioEnv
        except ImportError as err:
            raise gym.error.DependencyNotInstalled(f"TakeCover needs vizdoom: pip install vizdoom==1.3.* ({err})") \
                from err
        self.render_mode, self.skill = render_mode, skill
        self._env = VizdoomScenarioEnv(
            "take_cover.cfg", max_buttons_pressed=0, doom_skill=skill, render_hud=True, episode_timeout=0,
            screen_resolution="RES_320X240", doom_config_path=os.path.join(tempfile.gettempdir(),
                                                                           "worldmodels_vizdoom.ini"))
        game = self._env.game
        names = [b.name for b in game.get_available_buttons()]
        if sorted(names) != ["MOVE_LEFT", "MOVE_RIGHT"]:
            raise RuntimeError(f"take_cover.cfg buttons changed: {names}")
        self._buttons = {LEFT: np.zeros(2, np.int8), STAY: np.zeros(2, np.int8), RIGHT: np.zeros(2, np.int8)}
        self._buttons[LEFT][names.index("MOVE_LEFT")] = 1
        self._buttons[RIGHT][names.index("MOVE_RIGHT")] = 1
        self.game: "vizdoom.DoomGame" = game
        self.observation_space = spaces.Box(0, 255, (SIZE, SIZE, 3), np.uint8)
        self.action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
        self._obs = np.zeros((SIZE, SIZE, 3), np.uint8)

    def _process(self, obs: dict) -> np.ndarray:
        screen = obs["screen"]
        if self._env.state is None:  # after death: no screen
            return np.zeros((SIZE, SIZE, 3), np.uint8)
        return crop_resize(screen, CROP_ROWS)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        obs, _ = self._env.reset(seed=seed, options=options)
        self._obs = self._process(obs)
        return self._obs, {}

    def step(self, action):
        obs, _, terminated, truncated, _ = self._env.step(self._buttons[action_direction(action)])
        self._obs = self._process(obs)
        return self._obs, 1.0, bool(terminated), bool(truncated), {}

    def render(self):
        return self._obs.copy() if self.render_mode == "rgb_array" else None

    def close(self):
        if getattr(self, "_env", None) is not None:
            self._env.close()
            self._env = None
