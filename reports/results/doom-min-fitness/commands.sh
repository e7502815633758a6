#!/bin/bash
# Issue 13 lever: a risk-averse dream search. Fresh tau 1.15 Cs on the published run's V and M, each candidate ranked
# by the worst of its 16 dream rollouts (es.fitness min) instead of their mean, CMA-ES seeds 111 and 112 as the
# published C and the ensemble-dream control; validation seeds only (real game; dream in the published M), paired by
# seed with the mean-ranked Cs of the same seeds. Run from the repository root.
set -eo pipefail
. .venv/bin/activate
R=reports/results; D=runs/doom-min; X=$R/doom-min-fitness; L="flock /tmp/wm-heavy.lock"
[ -d $D ] || { cp -r $R/doom $D.tmp && mv $D.tmp $D; }
for S in 111 112; do
  $L python -m controller train --run-dir $D --tag min-s$S --es.seed $S --es.fitness min
  $L python -m controller evaluate --run-dir $D --tag min-s$S --evaluate.split validation
  $L python -m controller evaluate --dream --run-dir $D --tag min-s$S --evaluate.split validation
done
# Published here, paired by seed with the published run's C (seed 111) and the published M's seed-112 C of
# doom-ensemble-dream, both ranked by the mean.
for S in 111 112; do
  mkdir -p $X/controller-s$S
  cp $D/controller-min-s$S/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json,evaluation_dream_tau1.15_validation.json} \
      $X/controller-s$S/
done
python -c "import json; t = json.load(open('$D/timings.json'))
json.dump({k: v for k, v in t.items() if k.endswith(('-min-s111', '-min-s112'))}, open('$X/timings.json', 'w'), indent=2, sort_keys=True)" && echo >> $X/timings.json
python bench/paired_scores.py $R/doom/controller/evaluation_real_validation.json \
    $X/controller-s111/evaluation_real_validation.json --out $X/paired_s111.txt
python bench/paired_scores.py $R/doom-ensemble-dream/published-m/controller-s112/evaluation_real_validation.json \
    $X/controller-s112/evaluation_real_validation.json --out $X/paired_s112.txt
