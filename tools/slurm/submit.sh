#!/bin/bash
# Submits a study as a Slurm job array (one cell per task) and a merge job that runs when all
# cells have succeeded.
#   OPTILOG_STUDY_ARGS="--preset seed --name nightly --seeds 1 2 3" \
#   OPTILOG_SHARDS=/shared/optilog/nightly OPTILOG_RESULT=/shared/optilog/nightly.sqlite \
#   tools/slurm/submit.sh [extra sbatch options]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OPTILOG=${OPTILOG:-optilog}
: "${OPTILOG_STUDY_ARGS:?}" "${OPTILOG_SHARDS:?}" "${OPTILOG_RESULT:?}"
mkdir -p "$OPTILOG_SHARDS"
# shellcheck disable=SC2086
cells=$("$OPTILOG" study $OPTILOG_STUDY_ARGS --list-cells --format csv | tail -n +2 | wc -l)
[ "$cells" -ge 1 ] || { echo "submit.sh: the study has no cells" >&2; exit 1; }
export OPTILOG OPTILOG_STUDY_ARGS OPTILOG_SHARDS OPTILOG_RESULT OPTILOG_CELLS=$cells
array=$(sbatch --parsable --export=ALL --array="0-$((cells - 1))" --output="$OPTILOG_SHARDS/cell-%a.log" "$@" "$here/study-array.sbatch")
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" --output="$OPTILOG_SHARDS/merge.log" "$here/merge.sbatch")
echo "array job $array ($cells cells), merge job $merge; shards in $OPTILOG_SHARDS, result $OPTILOG_RESULT"
