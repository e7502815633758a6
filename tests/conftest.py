"""Test setup: quiet TensorFlow, single-threaded ops (tests run beside each other on 2 cores), repo on sys.path."""
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
# V's train step form is chosen by a speed probe on a new host (common/speed_probe.py); tests fix it instead,
# so they neither spend the probe's time nor depend on the host (tests/test_speed_probe.py tests the probe).
os.environ.setdefault("WM_VAE_JIT", "0")
os.environ.setdefault("WM_RNN_JIT", "0")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
