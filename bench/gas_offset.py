"""A CarRacing C with its gas pushed up or down: the same C, with ``--offset`` added to the bias of its gas output.

Probes whether a C's pace is held back by how much gas it gives (a C that gains from more gas was left short of it
by the search's noise) or by how it takes the turns (more gas only costs it). C's gas is (tanh(x . W + b)[1] + 1) / 2
(the authors' mapping, envs/actions.py), and a CarRacing C's parameters start with b (controller/model.py), so the
offset is added to parameter 1. Writes ``{"params": ..., "source": ..., "gas_offset": ...}``; score it with ``python
-m controller evaluate --tag TAG`` on the validation split, never the test split.

    python bench/gas_offset.py A/best.json --offset 0.2 --out runs/RUN/controller-gas+0.2/best.json
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GAS = 1  # C's outputs are steer, gas, brake; with a bias the flat vector starts [b_steer, b_gas, b_brake, W...]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("params", type=Path, help="best.json of a CarRacing C on [z, h] with a bias (867 parameters)")
    parser.add_argument("--offset", type=float, required=True, help="added to the gas output's bias")
    parser.add_argument("--out", type=Path, required=True, help="the shifted C's best.json (its folder is created)")
    args = parser.parse_args(argv)
    from common.atomic import write_json
    from common.config import ConfigError, make_config
    from controller.evaluate import read_params
    from controller.shape import controller_shape

    if args.out.exists():
        print(f"error: {args.out} exists; choose another --out", file=sys.stderr)
        return 2
    try:
        params, generation = read_params(args.params, controller_shape(make_config("carracing")).num_params)
    except (OSError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    params = params.astype(float)
    print(f"{args.params}: gas bias {params[GAS]:+.4f} -> {params[GAS] + args.offset:+.4f}")
    params[GAS] += args.offset
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"params": params.tolist(), "generation": generation, "source": str(args.params),
                          "gas_offset": args.offset})
    return 0


if __name__ == "__main__":
    sys.exit(main())
