"""A CarRacing C with its gas or its steering moved: ``--gas-offset`` adds to the bias of its gas output,
``--steer-scale`` multiplies its steering pre-activation (weights and bias) by a factor.

Probes what holds a C's pace back: how much gas it gives (a C that gains from more gas was left short of it by the
search's noise) or how it steers through the turns (a C that gains from sharper or softer steering was left off its
best steering gain). C's action is tanh(x . W + b): steer = a[0], gas = (a[1] + 1) / 2 (the authors' mapping,
envs/actions.py), and a CarRacing C's parameters are [b (3), W (288 x 3) row-major] (controller/model.py), so the gas
offset moves parameter 1 and the steering scale parameters 0 and 3 + 3 i. Writes ``{"params": ..., "source": ...,
"gas_offset": ..., "steer_scale": ...}``; score it with ``python -m controller evaluate --tag TAG`` on the validation
split, never the test split.

    python bench/action_probe.py A/best.json --gas-offset 0.2 --out runs/RUN/controller-gas0.2/best.json
    python bench/action_probe.py A/best.json --steer-scale 1.25 --out runs/RUN/controller-steer1.25/best.json
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STEER, GAS = 0, 1  # C's outputs: steer, gas, brake; the flat vector starts [b_steer, b_gas, b_brake, W...]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("params", type=Path, help="best.json of a CarRacing C on [z, h] with a bias (867 parameters)")
    parser.add_argument("--gas-offset", type=float, default=0.0, help="added to the gas output's bias (default 0)")
    parser.add_argument("--steer-scale", type=float, default=1.0,
                        help="multiplies the steering output's weights and bias (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="the probe's best.json (its folder is created)")
    args = parser.parse_args(argv)
    from common.atomic import write_json
    from common.config import ConfigError, make_config
    from controller.evaluate import read_params
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
    params = params.astype(float)
    print(f"{args.params}: gas bias {params[GAS]:+.4f} -> {params[GAS] + args.gas_offset:+.4f}; "
          f"steering x {args.steer_scale:g}")
    params[GAS] += args.gas_offset
    params[STEER] *= args.steer_scale
    params[shape.action_size + STEER::shape.action_size] *= args.steer_scale  # W's steering column
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"params": params.tolist(), "generation": generation, "source": str(args.params),
                          "gas_offset": args.gas_offset, "steer_scale": args.steer_scale})
    return 0


if __name__ == "__main__":
    sys.exit(main())
