"""The per-host speed probe: the fastest candidate wins, the answer is cached per host, a failing form is skipped."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common import speed_probe


def test_fastest_candidate_is_chosen_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("WM_CACHE_DIR", str(tmp_path))
    calls = []

    def rate(value):
        def measure():
            calls.append(value)
            return value
        return measure

    def broken():
        raise RuntimeError("XLA cannot compile this here")

    lines = []
    assert speed_probe.fastest("step", {"graph": rate(51.0), "xla": rate(177.0), "other": broken},
                               log=lines.append) == "xla"
    assert calls == [51.0, 177.0] and "other failed here" in lines[0] and "xla 177.0/s" in lines[1]
    cache = json.loads((tmp_path / "speed_probes.json").read_text())
    (entry,) = cache.values()
    assert entry == {"choice": "xla", "rates": {"graph": 51.0, "xla": 177.0}, "failed": ["other"]}
    # Same host, same probe: read from the cache, nothing measured again.
    assert speed_probe.fastest("step", {"graph": rate(500.0), "xla": rate(1.0), "other": broken},
                               log=lines.append) == "xla"
    assert calls == [51.0, 177.0] and "cached" in lines[-1]
    # A form added since the answer was cached: every form is measured again.
    assert speed_probe.fastest("step", {"graph": rate(50.0), "xla": rate(170.0), "new": rate(300.0)},
                               log=lines.append) == "new"
    assert calls == [51.0, 177.0, 50.0, 170.0, 300.0]
    # Another probe name (another model size) is measured on its own.
    assert speed_probe.fastest("other step", {"graph": rate(500.0), "xla": rate(1.0)}, log=lines.append) == "graph"


def test_the_key_names_the_cpu_and_tensorflow(monkeypatch):
    for var in ("ONEDNN_MAX_CPU_ISA", "XLA_FLAGS"):  # the plain host, whatever caps the suite itself runs under
        monkeypatch.delenv(var, raising=False)
    key = speed_probe.host_key()
    assert "cores" in key and "tf " in key and "flags" in key and "oneDNN on" in key
    # A form measured with oneDNN off or the instruction set capped is not the answer for the plain host.
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert speed_probe.host_key() not in (key, key.replace("oneDNN on", "oneDNN off"))


def test_the_project_turns_onednn_on_before_tensorflow_loads_unless_the_user_chose():
    """TensorFlow leaves oneDNN off on AVX2-only CPUs (common/onednn.py); importing any package of the project
    sets it on, before TensorFlow reads the variable, and keeps a value the user set."""
    code = ("import os, vae.model, tensorflow as tf; from tensorflow.python.util import _pywrap_util_port as p; "
            "print(os.environ['TF_ENABLE_ONEDNN_OPTS'], p.IsMklEnabled())")
    root = Path(__file__).resolve().parents[1]
    for user, expected in ((None, "1 True"), ("0", "0 False")):
        env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
        if user is not None:
            env["TF_ENABLE_ONEDNN_OPTS"] = user
        done = subprocess.run([sys.executable, "-c", code], cwd=root, env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
                              capture_output=True, text=True, check=True)
        assert done.stdout.split()[-2:] == expected.split()


def test_no_candidate_that_runs_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WM_CACHE_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="no candidate ran"):
        speed_probe.fastest("step", {"a": lambda: 1 / 0}, log=lambda _: None)


def test_vae_step_forms_measure_a_rate(monkeypatch):
    """Both forms the V probe compares run a real (tiny) train step and give a positive rate."""
    from vae import train

    monkeypatch.setattr(train, "PROBE_STEPS", 1)
    assert train._train_rate(4, 2, False) > 0


@pytest.mark.parametrize("experiment", ["doom", "carracing"])
def test_m_step_forms_agree_and_measure_a_rate(experiment):
    """M's train step compiled with XLA, whole or its head and losses only (candidates of the probe), computes the
    graph step's loss and update."""
    import numpy as np

    from common.config import make_config
    from rnn.train import STEP_FORMS, Trainer, _synthetic_batch, _train_rate

    cfg = make_config(experiment, "tiny", {"vae.z_size": 4, "rnn.hidden_size": 8, "rnn.batch_size": 2,
                                           "rnn.sequence_length": 6})
    batch = _synthetic_batch(cfg, np.random.default_rng(0))
    assert STEP_FORMS == ("graph", "xla", "xla_loss")
    graph, *compiled = [Trainer(cfg, form=form) for form in STEP_FORMS]
    for _ in range(2):
        a = graph.train_step(batch, False)
        for trainer in compiled:
            np.testing.assert_allclose(float(trainer.train_step(batch, False)[0]), float(a[0]), rtol=1e-5)
    for trainer in compiled:
        for mine, theirs in zip(trainer.model.weights, graph.model.weights):
            np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-6)
        np.testing.assert_allclose(trainer.h.numpy(), graph.h.numpy(), atol=1e-6)
    assert _train_rate(cfg, "graph") > 0
    with pytest.raises(ValueError, match="xla_loss"):
        Trainer(cfg, form="fused")
