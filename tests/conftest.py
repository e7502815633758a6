"""Test setup: quiet TensorFlow, a headless SDL, fixed train-step forms (no speed probes), repo on sys.path, the
end-to-end test first."""
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
# V's train step form is chosen by a speed probe on a new host (common/speed_probe.py); tests fix it instead,
# so they neither spend the probe's time nor depend on the host (tests/test_speed_probe.py tests the probe).
os.environ.setdefault("WM_VAE_JIT", "0")
os.environ.setdefault("WM_RNN_FORM", "graph")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import common  # noqa: E402, F401  (oneDNN as the project sets it, before any test module loads TensorFlow)


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def car_run(tmp_path_factory):
    """A CarRacing run folder holding a fresh V (Nz 32) and a small M (Nh 32): enough for the real-game agent
    (configs use --rnn.hidden_size 32)."""
    import numpy as np

    from rnn.model import MDNRNN
    from vae.model import ConvVAE

    run = tmp_path_factory.mktemp("car")
    (run / "vae").mkdir()
    (run / "rnn").mkdir()
    vae = ConvVAE(32, 0.5, 0)
    vae.encode(np.zeros((1, 64, 64, 3), np.float32))
    vae.save(run / "vae" / "model.keras")
    MDNRNN(32, 3, 32, 5, seed=0).save(run / "rnn" / "model.keras")
    return run


def pytest_collection_modifyitems(items):
    """The end-to-end test first: it takes about 40% of the suite, so the other worker(s) run the rest beside it
    instead of the whole suite waiting for it at the end (pyproject.toml: one test file per worker)."""
    items.sort(key=lambda item: item.path.name != "test_pipeline.py")  # stable: the rest keep their order
