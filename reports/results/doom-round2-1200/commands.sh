#!/bin/bash
# Issue 13 lever: episodes per round. Round 2 again from round 1, prepared as the pipeline prepares it
# (reports.iterate.prepare), but collecting 1,200 agent episodes instead of 600 (iterate.episodes 1200); M continues
# for the same 450 steps; a fresh C at tau 1.15; stages up to the validation scores only (no test seeds).
set -e
. .venv/bin/activate  # run from the repository root
P=runs/doom-small/round1; X=runs/doom-r2x2
if [ ! -d $X ]; then
  python - <<PY
import json
from pathlib import Path
from reports.iterate import prepare
prepare(Path("$P"), Path("$X.tmp"), 2)
cfg = json.loads(Path("$X.tmp/config.json").read_text())
cfg["collect"]["episodes"] += 600  # 1,200 new episodes instead of iterate.episodes' 600
cfg["iterate"]["episodes"] = 1200
Path("$X.tmp/config.json").write_text(json.dumps(cfg, indent=2) + "\n")
PY
  mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
$L python -m envs collect --run-dir $X
$L python -m vae encode --run-dir $X
$L python -m rnn train --run-dir $X
$L python -m controller train --run-dir $X
$L python -m controller evaluate --run-dir $X --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --evaluate.split validation
$L python -m rnn diagnose --run-dir $X
