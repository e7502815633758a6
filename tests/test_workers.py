"""The worker pool: a crashed or hung worker is replaced and its task retried; persistent failure is loud."""
import functools

import numpy as np
import pytest

from controller.workers import RolloutError, WorkerPool, synthetic_factory

pytestmark = pytest.mark.slow


def _tasks(n):
    return [(np.full((2, 3), float(i)), [1, 2], 0) for i in range(n)]  # two episodes of one controller, whole


@pytest.mark.parametrize("mode", ["crash", "hang", "raise"])
def test_failing_worker_is_replaced_and_generation_completes(tmp_path, mode):
    factory = functools.partial(synthetic_factory, mode, str(tmp_path))
    # The limit only has to catch the hang: a healthy task takes milliseconds, but a loaded 2-core host can stall
    # a process for seconds, so the limit is far above that (a tight one made a healthy task count as hung).
    timeout = 10.0 if mode == "hang" else 120.0
    with WorkerPool(factory, workers=2, timeout=timeout, max_retries=2) as pool:
        results = pool.map(_tasks(4))
        assert [r[0][0] for r in results] == [-3.0 * i * i for i in range(4)]
        assert pool.retried == 1
        assert pool.replaced == (0 if mode == "raise" else 1)
        assert pool.map(_tasks(2))[1][0] == [-3.0, -3.0]  # the replacement keeps serving


def test_persistent_failure_raises():
    with WorkerPool(_fail_factory, workers=1, timeout=5.0, max_retries=1) as pool:
        with pytest.raises(RolloutError, match="failed 2 times"):
            pool.map(_tasks(1))


def _always_raise(task):
    raise RuntimeError("always")


def _fail_factory():
    return _always_raise
