"""Gymnasium environments of the reproduction, registered here by string entry point.

Importing ``envs`` is cheap: no TensorFlow, no Box2D, no vizdoom import happens until an id is made.

| id | class | obs | action | cap |
|---|---|---|---|---|
| ``worldmodels/CarRacing64-v0`` | ``envs.carracing.CarRacing64Env`` | uint8 64x64x3 | Box([-1,0,0],[1,1,1]) | 1000, 900 |
| ``worldmodels/TakeCover64-v0`` | ``envs.doom.TakeCover64Env`` | uint8 64x64x3 | Box(-1,1,(1,)), thirds | 2100, 750 |
| ``worldmodels/DoomDream-v0`` | ``envs.dream.DoomDreamEnv`` | float32 [z,c,h] | Box(-1,1,(1,)) | 2100 |

cap: the step cap, then the score that counts as solved.
"""
import common  # noqa: F401  (first: oneDNN on before anything loads TensorFlow; common/onednn.py)
from gymnasium.envs.registration import register, registry

CARRACING_ID = "worldmodels/CarRacing64-v0"
TAKECOVER_ID = "worldmodels/TakeCover64-v0"
DOOMDREAM_ID = "worldmodels/DoomDream-v0"

_ENVS = (
    dict(id=CARRACING_ID, entry_point="envs.carracing:CarRacing64Env", max_episode_steps=1000,
         reward_threshold=900.0),
    dict(id=TAKECOVER_ID, entry_point="envs.doom:TakeCover64Env", max_episode_steps=2100, reward_threshold=750.0),
    dict(id=DOOMDREAM_ID, entry_point="envs.dream:DoomDreamEnv", max_episode_steps=2100),
)

def env_kwargs(cfg) -> dict:
    """Constructor arguments of the experiment's real env that come from the config (Doom: the skill level;
    CarRacing: the episode rule)."""
    if cfg.env.env_id == TAKECOVER_ID:
        return {"skill": cfg.env.doom_skill}
    if cfg.env.env_id == CARRACING_ID:
        return {"lap_complete_percent": cfg.env.lap_complete_percent}
    return {}


def make_env(cfg, render_mode: str | None = None, **kwargs):
    """The registered 64x64 env of the experiment, capped at cfg.env.max_steps (ConfigError when it cannot be
    made, e.g. Box2D or vizdoom missing)."""
    import gymnasium

    from common.config import ConfigError

    try:
        return gymnasium.make(cfg.env.env_id, max_episode_steps=cfg.env.max_steps, render_mode=render_mode,
                              **env_kwargs(cfg), **kwargs)
    except gymnasium.error.Error as err:
        raise ConfigError(f"cannot make {cfg.env.env_id!r}: {err}") from None


for _spec in _ENVS:
    if _spec["id"] not in registry:
        register(**_spec)
