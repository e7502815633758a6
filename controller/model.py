"""C, the controller of World Models (paper section 2.3 and appendix A.3; authors' `carracing/model.py`,
`doomrnn/model.py`; ORIGINAL-SPEC-DETAILED section 7).

One flat parameter vector per controller, packed as the authors did, so their published
``*.cma.16.64.best.json`` files load unchanged:

    zh, z, zch (linear):  a = tanh(x . W + b)      params = [b (A), W (in x A) row-major]   W[i, j] = p[A + A*i + j]
                          without bias (Doom):     params = [W (in x A) row-major]          W[i, j] = p[A*i + j]
    z_hidden:             a = tanh(tanh(z . W1 + b1) . W2 + b2)
                          params = [b1 (H), W1 (z x H) row-major, b2 (A), W2 (H x A) row-major]

Inputs x: ``zh`` = [z, h] (CarRacing, 288 -> 867 params), ``zch`` = [z, c, h] in this order (Doom, 1088, no bias
-> 1,088 params), ``z`` = [z] (99), ``z_hidden`` = z -> 40 tanh -> A (1,443).

:func:`act` works on one parameter vector for a batch of observations, or on one vector per row (a whole CMA-ES
population stepped as one batch, used by the batched dream). Pure keras.ops; no I/O.
"""
from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from controller.shape import INPUTS, ControllerShape, controller_shape  # noqa: F401  (C's shape lives there)

# Per-row controllers (a population stepping together) with at most this many outputs per layer multiply and sum
# instead of a batched matmul: C's actions (1 Doom, 3 CarRacing); the z_hidden variant's 40 tanh units keep the matmul.
PER_ROW_PRODUCT_MAX_OUT = 4


def observation(z, c, h, shape: ControllerShape):
    """What C sees: [z, h] | [z, c, h] (this order, as `doomrnn.py:574-577`) | [z].

    Args:
        z: [B, Nz]; c, h: [B, Nh] (ignored for the z-only inputs; may be None there).
        shape: the controller shape.
    Returns:
        x [B, input_size]; a numpy array when z is one, else a tensor.
    """
    parts = {"zh": (z, h), "zch": (z, c, h)}.get(shape.inputs, (z,))
    if isinstance(z, np.ndarray):
        return np.concatenate([np.asarray(p, dtype=z.dtype) for p in parts], axis=-1)
    return ops.concatenate(list(parts), axis=-1)


class Layer(NamedTuple):
    """One dense layer's weights unpacked from the flat vector: w [..., in, out], b [..., out] or None."""

    w: object
    b: object


def unpack(params, shape: ControllerShape) -> list[Layer]:
    """Split a flat vector ([P]) or a batch of them ([B, P]) into layers, in the authors' packing (module doc).

    Returns:
        [Layer] (one for linear inputs, two for z_hidden); w [..., in, out], b [..., out] or None.
    """
    lead = tuple(ops.shape(params)[:-1])
    sizes = [(shape.input_size, shape.hidden_units), (shape.hidden_units, shape.action_size)] \
        if shape.inputs == "z_hidden" else [(shape.input_size, shape.action_size)]
    layers, start = [], 0
    for n_in, n_out in sizes:
        b = None
        if shape.use_bias:
            b = params[..., start:start + n_out]
            start += n_out
        w = ops.reshape(params[..., start:start + n_in * n_out], lead + (n_in, n_out))
        start += n_in * n_out
        layers.append(Layer(w, b))
    if start != ops.shape(params)[-1]:
        raise ValueError(f"expected {shape.num_params} parameters for {shape}, got {ops.shape(params)[-1]}")
    return layers


def pack(layers: list[Layer], shape: ControllerShape) -> np.ndarray:
    """The inverse of :func:`unpack` for one controller: its layers back into the authors' flat vector [P] (float64)."""
    parts = []
    for layer in layers:
        if shape.use_bias:
            parts.append(np.asarray(layer.b, dtype=np.float64).reshape(-1))
        parts.append(np.asarray(layer.w, dtype=np.float64).reshape(-1))  # row-major, as unpack reads it
    flat = np.concatenate(parts)
    if flat.size != shape.num_params:
        raise ValueError(f"expected {shape.num_params} parameters for {shape}, got {flat.size}")
    return flat


def act(params, x, shape: ControllerShape):
    """C's output a = tanh(x W + b) (z_hidden: two tanh layers), before the env's action mapping.

    Args:
        params: [P] one controller for every row of x, or [B, P] one controller per row of x.
        x: [B, input_size] observations (see :func:`observation`).
        shape: the controller shape.
    Returns:
        a [B, action_size] in (-1, 1).
    """
    params = ops.convert_to_tensor(params)
    x = ops.convert_to_tensor(x)
    params = ops.cast(params, x.dtype)
    per_row = len(ops.shape(params)) == 2
    for layer in unpack(params, shape):
        if per_row and layer.w.shape[-1] <= PER_ROW_PRODUCT_MAX_OUT:
            # sum_i x[b, i] w[b, i, o]: a product and a sum XLA fuses, faster in the 1024-row dream than the
            # batched matmul of the same thing (README "Throughput")
            y = ops.sum(ops.expand_dims(x, -1) * layer.w, axis=1)
        elif per_row:  # [B, 1, in] @ [B, in, out] -> [B, out]
            y = ops.squeeze(ops.matmul(ops.expand_dims(x, 1), layer.w), 1)
        else:
            y = ops.matmul(x, layer.w)
        if layer.b is not None:
            y = y + layer.b
        x = ops.tanh(y)
    return x


@keras.saving.register_keras_serializable(package="worldmodels")
class LinearController(keras.Model):
    """C as a Keras model holding one flat, non-trainable parameter vector (ES sets it, nothing trains it).

    ``model(x)`` returns :func:`act` of the stored parameters; ``get_flat()`` / ``set_flat(p)`` exchange the vector
    with the ES. Also covers the z_hidden variant (two layers from the same flat vector).
    """

    def __init__(self, inputs: str, z_size: int, hidden_size: int, action_size: int, use_bias: bool = True,
                 hidden_units: int = 40, **kwargs):
        super().__init__(**kwargs)
        self.shape_ = ControllerShape(inputs, z_size, hidden_size, action_size, use_bias, hidden_units)
        self.params = self.add_weight(shape=(self.shape_.num_params,), initializer="zeros", trainable=False,
                                      name="params")
        self.built = True  # the only weight exists already; no input shape needed

    @classmethod
    def from_shape(cls, shape: ControllerShape, **kwargs) -> "LinearController":
        return cls(shape.inputs, shape.z_size, shape.hidden_size, shape.action_size, shape.use_bias,
                   shape.hidden_units, **kwargs)

    def call(self, x):
        return act(self.params, x, self.shape_)

    def get_flat(self) -> np.ndarray:
        return np.asarray(keras.ops.convert_to_numpy(self.params), dtype=np.float32)

    def set_flat(self, params) -> None:
        params = np.asarray(params, dtype=np.float32).reshape(-1)
        if params.size != self.shape_.num_params:
            raise ValueError(f"expected {self.shape_.num_params} parameters, got {params.size}")
        self.params.assign(params)

    def get_config(self):
        s = self.shape_
        return {**super().get_config(), "inputs": s.inputs, "z_size": s.z_size, "hidden_size": s.hidden_size,
                "action_size": s.action_size, "use_bias": s.use_bias, "hidden_units": s.hidden_units}
