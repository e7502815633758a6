"""The CarRacing action mapping, written once (authors' `carracing/model.py:113-114`).

C's outputs are tanh values in [-1, 1]; the game takes steer in [-1, 1], gas and brake in [0, 1]:
steer = a0, gas = (a1 + 1) / 2, brake = clip(a2, 0, 1). M consumes the mapped action (what the game got). Doom's
actions pass unchanged (the TakeCover env applies the thirds rule: left / stay / right at +-1/3).

The mapping is an affine map then a clip, so one function serves NumPy (the random collection agent) and
TensorFlow (the agent's compiled step, ``clip=tf.clip_by_value``).
"""
from __future__ import annotations

import numpy as np

# Affine part a * SCALE + OFFSET, then the game's bounds. Steer and gas are already inside them (tanh range).
CARRACING_SCALE = np.array([1.0, 0.5, 1.0], np.float32)
CARRACING_OFFSET = np.array([0.0, 0.5, 0.0], np.float32)
CARRACING_LOW = np.array([-1.0, 0.0, 0.0], np.float32)
CARRACING_HIGH = np.array([1.0, 1.0, 1.0], np.float32)


def to_env_action(a, experiment: str, clip=np.clip):
    """C's output ``a`` [..., A] -> the action the env takes (same type as ``a``; see the module docstring)."""
    if experiment == "carracing":
        return clip(a * CARRACING_SCALE + CARRACING_OFFSET, CARRACING_LOW, CARRACING_HIGH)
    if experiment == "doom":
        return a
    raise ValueError(f"unknown experiment {experiment!r}")
