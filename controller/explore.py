"""The agent collection policy of the paper's iterative training (section 5, step 2): the trained agent (V, M, C
of a run) plays, and in a share of the random policy's holds its random action replaces C's
(:class:`envs.random_policies.ExploringPolicy`; M consumes the action actually taken).

``python -m envs collect --collect.policy agent`` reaches it by name (``envs.collect.POLICY_FACTORIES``), so
envs/ never imports controller/. :class:`AgentPolicyFactory` is picklable: each collection worker process
receives it and builds the agent once, on its first episode.
"""
from __future__ import annotations

from pathlib import Path

from common.config import Config, ConfigError, config_from_dict
from common.run_layout import RunLayout


class AgentPolicyFactory:
    """``factory(seed) -> policy`` for the episode collected with ``seed`` (``action = policy(obs)``)."""

    def __init__(self, agent_dir: str, cfg: dict, explore: float, max_hold: int):
        self.agent_dir, self.cfg, self.explore, self.max_hold = str(agent_dir), cfg, float(explore), int(max_hold)
        self._agent = self._params = None

    def __getstate__(self) -> dict:  # the agent (TF functions) is built in each worker, never pickled
        return {**self.__dict__, "_agent": None, "_params": None}

    def __call__(self, seed: int):
        from envs.random_policies import ExploringPolicy

        if self._agent is None:
            from controller.agent import Agent
            from controller.evaluate import read_params
            from controller.shape import controller_shape

            cfg = config_from_dict(self.cfg)
            self._params, _ = read_params(RunLayout(self.agent_dir).controller().best,
                                          controller_shape(cfg).num_params)
            self._agent = Agent(self.agent_dir, cfg, threads=1, with_env=False)
        return ExploringPolicy(self._agent.policy(self._params, seed), seed, self.explore, self.max_hold)


def agent_policy_factory(cfg: Config, run_dir: Path) -> AgentPolicyFactory:
    """The factory of ``collect.policy agent``: collect.agent_dir's agent (or this run's); ConfigError, before
    anything is written, when that run has no trained V, M and controller."""
    from controller.agent import has_models

    where = Path(cfg.collect.agent_dir) if cfg.collect.agent_dir else Path(run_dir)
    if not (has_models(where) and RunLayout(where).controller().best.exists()):
        raise ConfigError(f"collect.policy agent plays a trained agent: {where} needs V and M (vae/, rnn/) "
                          f"and controller/best.json")
    return AgentPolicyFactory(str(where), cfg.to_dict(), cfg.collect.explore, cfg.collect.max_hold)
