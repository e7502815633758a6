"""C's shape: what it sees, its parameter count and packing (:mod:`controller.model` has the maths).

Apart from the model so that a command checks a controller file against it (``controller evaluate --params``,
reproduce's check of a finished stage) without importing Keras and TensorFlow, which take seconds to load.
"""
from __future__ import annotations

from dataclasses import dataclass

from common.config import CONTROLLER_INPUTS as INPUTS


@dataclass(frozen=True)
class ControllerShape:
    """Everything that fixes C's parameter count and packing.

    Attributes:
        inputs: what C sees: "zh" [z, h] (CarRacing), "zch" [z, c, h] (Doom), "z", or "z_hidden" (z, 1 hidden layer).
        z_size: Nz, V's latent size.
        hidden_size: Nh, M's LSTM units (h and c are each this wide).
        action_size: A, width of C's output.
        use_bias: output (and hidden) biases; CarRacing True, Doom False.
        hidden_units: tanh units of the z_hidden variant (authors: 40).
    """

    inputs: str
    z_size: int
    hidden_size: int
    action_size: int
    use_bias: bool = True
    hidden_units: int = 40

    def __post_init__(self):
        if self.inputs not in INPUTS:
            raise ValueError(f"inputs must be one of {INPUTS}, got {self.inputs!r}")

    @property
    def input_size(self) -> int:
        """Width of the observation x that C reads."""
        return {"zh": self.z_size + self.hidden_size, "zch": self.z_size + 2 * self.hidden_size,
                "z": self.z_size, "z_hidden": self.z_size}[self.inputs]

    @property
    def num_params(self) -> int:
        """Length of the flat parameter vector (867 CarRacing, 1,088 Doom, 99 z, 1,443 z_hidden)."""
        bias = int(self.use_bias)
        if self.inputs == "z_hidden":
            hu = self.hidden_units
            return (self.input_size + bias) * hu + (hu + bias) * self.action_size
        return (self.input_size + bias) * self.action_size

    @property
    def uses_rnn(self) -> bool:
        """Whether C reads M's state (h, or c and h)."""
        return self.inputs in ("zh", "zch")


def controller_shape(cfg) -> ControllerShape:
    """The :class:`ControllerShape` of a :class:`common.config.Config`."""
    return ControllerShape(inputs=cfg.controller.inputs, z_size=cfg.vae.z_size, hidden_size=cfg.rnn.hidden_size,
                           action_size=cfg.env.action_size, use_bias=cfg.controller.use_bias,
                           hidden_units=cfg.controller.hidden_units)
