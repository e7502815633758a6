"""--backend ray against a local Ray instance (skipped where Ray is not installed: pip install -r requirements-ray.txt)."""
import functools

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def test_ray_backend_rollouts_and_retry(tmp_path):
    from common.config import make_config
    from controller.ray_backend import RayBackend
    from controller.workers import synthetic_factory

    cfg = make_config("doom", "tiny", {"controller.inputs": "z", "es.rollout_timeout": 30, "es.max_retries": 2})
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
