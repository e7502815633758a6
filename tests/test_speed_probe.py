"""The per-host speed probe: the fastest candidate wins, the answer is cached per host, a failing form is skipped."""
import json

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
    assert entry == {"choice": "xla", "rates": {"graph": 51.0, "xla": 177.0}}
    # Same host, same probe: read from the cache, nothing measured again.
    assert speed_probe.fastest("step", {"graph": rate(500.0), "xla": rate(1.0)}, log=lines.append) == "xla"
    assert calls == [51.0, 177.0] and "cached" in lines[-1]
    # Another probe name (another model size) is measured on its own.
    assert speed_probe.fastest("other step", {"graph": rate(500.0), "xla": rate(1.0)}, log=lines.append) == "graph"


def test_the_key_names_the_cpu_and_tensorflow():
    key = speed_probe.host_key()
    assert "cores" in key and "tf " in key and "flags" in key


def test_no_candidate_that_runs_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WM_CACHE_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="no candidate ran"):
        speed_probe.fastest("step", {"a": lambda: 1 / 0}, log=lambda _: None)


def test_vae_step_forms_measure_a_rate(monkeypatch):
    """Both forms the V probe compares run a real (tiny) train step and give a positive rate."""
    from vae import train

    monkeypatch.setattr(train, "PROBE_STEPS", 1)
    assert train._train_rate(4, 2, False) > 0


def test_m_step_forms_agree_and_measure_a_rate():
    """M's train step compiled with XLA (a candidate of the probe) computes the graph step's loss and update."""
    import numpy as np

    from common.config import make_config
    from rnn.train import Trainer, _synthetic_batch, _train_rate

    cfg = make_config("doom", "tiny", {"vae.z_size": 4, "rnn.hidden_size": 8, "rnn.batch_size": 2,
                                       "rnn.sequence_length": 6})
    batch = _synthetic_batch(cfg, np.random.default_rng(0))
    graph, xla = Trainer(cfg, jit_compile=False), Trainer(cfg, jit_compile=True)
    for _ in range(2):
        a, b = graph.train_step(batch, False), xla.train_step(batch, False)
        np.testing.assert_allclose(float(a[0]), float(b[0]), rtol=1e-5)
    np.testing.assert_allclose(graph.model.lstm_kernel.numpy(), xla.model.lstm_kernel.numpy(), atol=1e-6)
    assert _train_rate(cfg, False) > 0
