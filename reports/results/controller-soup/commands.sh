#!/bin/bash
# Issue 12 and 13 lever: a soup of controllers, the mean of the parameter vectors of Cs that read the same V and M
# (independent CMA-ES runs, other seeds or tau), scored on the validation seeds only and paired by seed with the
# published C. Run from the repository root; runs/cr-long is a copy of reports/results/carracing-sampled-z (the published
# CarRacing V and M), runs/doom-ens a run folder holding the published Doom run's V and M (runs/doom-small's).
set -eo pipefail
. .venv/bin/activate
R=reports/results; S=$R/controller-soup; L="flock /tmp/wm-heavy.lock"
python bench/controller_soup.py $R/carracing-sampled-z/controller/best.json $R/carracing-es-seed1/controller/best.json \
    $R/carracing-long-search/controller/best.json $R/carracing-pop64-80gen/controller/best.json \
    --out runs/cr-long/controller-soup4/best.json | tee $S/carracing/soup4.txt
$L python -m controller evaluate --run-dir runs/cr-long --tag soup4 --evaluate.split validation \
    --evaluate.backend envpool --evaluate.episodes 200
python bench/controller_soup.py $R/doom/controller/best.json $R/doom-ensemble-dream/published-m/controller-s112/best.json \
    $R/doom-ensemble-dream/ensemble/controller-s111/best.json $R/doom-ensemble-dream/ensemble/controller-s112/best.json \
    $R/doom/controller-tau1.00/best.json $R/doom/controller-tau1.30/best.json --out runs/doom-ens/controller-soup6/best.json | tee $S/doom/soup6.txt
python bench/controller_soup.py $R/doom/controller/best.json $R/doom-ensemble-dream/published-m/controller-s112/best.json \
    $R/doom/controller-tau1.00/best.json $R/doom/controller-tau1.30/best.json --out runs/doom-ens/controller-soup4pub/best.json | tee $S/doom/soup4pub.txt
for t in soup6 soup4pub; do $L python -m controller evaluate --run-dir runs/doom-ens --tag $t --evaluate.split validation; done
python bench/paired_scores.py $R/carracing-refine/controller/evaluation_real_envpool_validation.json \
    $S/carracing/controller-soup4/evaluation_real_envpool_validation.json --out $S/carracing/paired_validation.txt
for t in soup6 soup4pub; do
  python bench/paired_scores.py $R/doom/controller-tau1.00/evaluation_real_validation.json \
      $S/doom/controller-$t/evaluation_real_validation.json --out $S/doom/paired_$t.txt
done
