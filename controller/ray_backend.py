"""Real-env rollouts as Ray tasks (``python -m controller train --backend ray [--ray-address ADDR]``).

Optional dependency: ``pip install -r requirements-ray.txt``. The tasks are the pool's tasks (env.vector_envs
episodes each, played batched); every Ray worker process builds its :class:`controller.agent.Agent` (V and M)
once and caches it.
A task that runs past ``rollout_timeout`` is cancelled (``force=True`` kills its worker) and retried up to
``max_retries`` times; a task whose worker died is retried the same way; then the generation fails loudly.
"""
from __future__ import annotations

import time

from common.config import Config, ConfigError
from controller.backends import TaskBackend
from controller.workers import RolloutError

_CACHE: dict = {}


def _run(factory, task):
    key = id(factory) if not hasattr(factory, "args") else repr(factory.args)[:2000]
    if key not in _CACHE:
        from common.threads import single_threaded_workers

        single_threaded_workers()
        _CACHE[key] = factory()
    return _CACHE[key](task)


class RayBackend(TaskBackend):
    """Same interface as controller.backends.PoolBackend, with Ray as the executor."""

    def __init__(self, cfg: Config, factory, address: str | None = None, num_cpus: int | None = None):
        try:
            import ray
        except ImportError:
            raise ConfigError("--backend ray needs Ray: pip install -r requirements-ray.txt") from None
        self.ray, self.cfg, self.factory = ray, cfg, factory
        if not ray.is_initialized():
            kwargs = {"address": address} if address else {"num_cpus": num_cpus or cfg.es.workers}
            ray.init(ignore_reinit_error=True, log_to_driver=False, **kwargs)
        self.remote = ray.remote(num_cpus=1, max_retries=0)(_run)
        self.factory_ref = ray.put(factory)

    def map(self, tasks):
        ray = self.ray
        results = [None] * len(tasks)
        failures = [0] * len(tasks)
        pending = {}

        def submit(i):
            pending[self.remote.remote(self.factory_ref, tasks[i])] = (i, time.monotonic())

        for i in range(len(tasks)):
            submit(i)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                i, _ = pending.pop(ref)
                try:
                    results[i] = ray.get(ref)
                except Exception as err:  # noqa: BLE001 - worker crash or task exception
                    self._retry(i, failures, f"failed: {type(err).__name__}: {str(err)[-300:]}", submit)
            now = time.monotonic()
            for ref, (i, started) in list(pending.items()):
                if now - started > self.cfg.es.rollout_timeout:
                    pending.pop(ref)
                    ray.cancel(ref, force=True)
                    self._retry(i, failures, f"timed out after {self.cfg.es.rollout_timeout:.0f} s", submit)
        return results

    def _retry(self, i, failures, why, submit):
        failures[i] += 1
        if failures[i] > self.cfg.es.max_retries:
            raise RolloutError(f"ray task {i} {why}; gave up after {failures[i]} attempts")
        print(f"[ray] task {i} {why}; retrying ({failures[i]}/{self.cfg.es.max_retries})", flush=True)
        submit(i)

    def close(self):
        pass
