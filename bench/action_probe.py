"""A CarRacing C with its gas, its steering or its brake moved: ``--gas-offset`` adds to the bias of its gas output,
``--steer-scale`` multiplies its steering pre-activation (weights and bias) by a factor, ``--brake-from-gas K,G``
replaces its brake output by one that brakes where it lifts the gas below G: brake pre-activation K (G - g), g the
gas pre-activation (W's brake column -K times its gas column, b[2] = K (G - b[1])).

Probes what holds a C's pace back: how much gas it gives (a C that gains from more gas was left short of it by the
search's noise) or how it steers through the turns (a C that gains from sharper or softer steering was left off its
best steering gain), or whether it lacks braking (bench/driving_faults.py: the Cs never brake, and lift the gas
before they spin). C's action is tanh(x . W + b): steer = a[0], gas = (a[1] + 1) / 2 (the authors' mapping,
envs/actions.py), so the gas offset moves b[1] and the steering scale b[0] and W's column 0 (controller/model.py unpacks
the vector into b and W and packs them back, in the authors' packing). Writes ``{"params": ..., "source": ...,
"gas_offset": ..., "steer_scale": ..., "brake_from_gas": ...}``; score it with ``python -m controller evaluate --tag
TAG`` on the validation split, never the test split.

    python bench/action_probe.py A/best.json --gas-offset 0.2 --out runs/RUN/controller-gas0.2/best.json
    python bench/action_probe.py A/best.json --steer-scale 1.25 --out runs/RUN/controller-steer1.25/best.json
    python bench/action_probe.py A/best.json --brake-from-gas 2,-1.5 --out runs/RUN/controller-brake2/best.json
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STEER, GAS, BRAKE = 0, 1, 2  # C's outputs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("params", type=Path, help="best.json of a CarRacing C on [z, h] with a bias (867 parameters)")
    parser.add_argument("--gas-offset", type=float, default=0.0, help="added to the gas output's bias (default 0)")
    parser.add_argument("--steer-scale", type=float, default=1.0,
                        help="multiplies the steering output's weights and bias (default 1)")
    parser.add_argument("--brake-from-gas", metavar="K,G", default="",
                        help="brake pre-activation K (G - gas pre-activation) in place of the C's own (default: "
                             "the C's own)")
    parser.add_argument("--out", type=Path, required=True, help="the probe's best.json (its folder is created)")
    args = parser.parse_args(argv)
    from common.atomic import write_json
    from common.config import ConfigError, make_config
    from controller.evaluate import read_params
    from controller.model import Layer, pack, unpack
    from controller.shape import controller_shape

    if args.out.exists():
        print(f"error: {args.out} exists; choose another --out", file=sys.stderr)
        return 2
    shape = controller_shape(make_config("carracing"))  # the number of actions and of parameters of a CarRacing C
    try:
        params, generation = read_params(args.params, shape.num_params)
    except (OSError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        brake = [float(v) for v in args.brake_from_gas.split(",")] if args.brake_from_gas else None
        if brake is not None and len(brake) != 2:
            raise ValueError
    except ValueError:
        print(f"error: --brake-from-gas takes K,G (two numbers), got {args.brake_from_gas!r}", file=sys.stderr)
        return 2
    (layer,) = unpack(params, shape)
    w, b = np.array(layer.w, dtype=np.float64), np.array(layer.b, dtype=np.float64)
    print(f"{args.params}: gas bias {b[GAS]:+.4f} -> {b[GAS] + args.gas_offset:+.4f}; steering x {args.steer_scale:g}")
    b[GAS] += args.gas_offset
    b[STEER] *= args.steer_scale
    w[:, STEER] *= args.steer_scale
    if brake is not None:  # after the gas offset: brakes where the probe's own gas is lifted below G
        k, g = brake
        w[:, BRAKE], b[BRAKE] = -k * w[:, GAS], k * (g - b[GAS])
    params = pack([Layer(w, b)], shape)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"params": params.tolist(), "generation": generation, "source": str(args.params),
                          "gas_offset": args.gas_offset, "steer_scale": args.steer_scale,
                          "brake_from_gas": brake})
    return 0


if __name__ == "__main__":
    sys.exit(main())
