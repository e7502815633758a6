"""--backend ray against a local Ray instance (skipped where Ray is not installed; CI installs it:
pip install -r requirements-ray.txt)."""
import functools

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def test_ray_backend_rollouts_and_retry(tmp_path):
    from common.config import make_config
    from controller.ray_backend import RayBackend
    from controller.workers import synthetic_factory

    # The limit is far above a healthy task's time: on a loaded 2-core host starting a Ray worker alone can take
    # over 30 s, and a task cancelled for that would use up the retries this test counts.
    cfg = make_config("doom", "tiny", {"controller.inputs": "z", "es.rollout_timeout": 600, "es.max_retries": 2})
    factory = functools.partial(synthetic_factory, "raise", str(tmp_path))  # first task raises once, then retried
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        backend = RayBackend(cfg, factory)
        params = np.stack([np.full(3, float(i)) for i in range(4)]).astype(np.float32)
        returns, lengths = backend.rollouts(params, [10, 11, 10, 11])
        np.testing.assert_allclose(returns[:, 0], [-3.0 * i * i for i in range(4)])
        assert returns.shape == (4, cfg.es.num_rollouts)
        eval_returns, _ = backend.evaluate(params[1], list(range(5)))
        assert eval_returns.shape == (5,)
    finally:
        ray.shutdown()


def test_ray_runs_the_batched_carracing_workers(car_run):
    """The Ray backend plays the same batched multi-env tasks as the process pool (envpool, env.vector_envs
    episodes per task): same episodes, same returns."""
    from common.config import make_config
    from controller.backends import PoolBackend, real_factory
    from controller.model import controller_shape
    from controller.ray_backend import RayBackend

    cfg = make_config("carracing", "tiny", {"rnn.hidden_size": 32, "env.max_steps": 30, "env.vector_envs": 3,
                                            "es.num_rollouts": 2})
    params = np.random.default_rng(0).normal(0, 0.3, (2, controller_shape(cfg).num_params)).astype(np.float32)
    # One process each (the two tasks run one after the other): every worker pays TensorFlow's import and V and
    # M's loading, and the test is about what a task returns, not about parallelism.
    pool = PoolBackend(cfg, real_factory(cfg, car_run), workers=1)
    try:
        expected = pool.rollouts(params, [2**30 + 1, 2**30 + 1])
    finally:
        pool.close()
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        backend = RayBackend(cfg, real_factory(cfg, car_run))
        returns, lengths = backend.rollouts(params, [2**30 + 1, 2**30 + 1])  # 4 episodes in tasks of 3 and 1
    finally:
        ray.shutdown()
    assert returns.shape == (2, 2) and (lengths == 30).all()
    np.testing.assert_allclose(returns, expected[0], atol=1e-6)
