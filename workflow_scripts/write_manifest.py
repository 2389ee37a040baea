"""Rule `manifest`: resolved config, project commit, package versions, device and wall time per
stage -> results/metrics/manifest.json."""

from pathlib import Path

import _workflow  # noqa: F401  (this workflow's sendflow first)

from sendflow.atomic import write_json
from sendflow.logs import setup
from sendflow.paths import BENCHMARKS_DIR
from sendflow.report.manifest import build_manifest

log = setup(snakemake.log[0])
project = Path(snakemake.scriptdir).parent
manifest = build_manifest(snakemake.config, project, Path(BENCHMARKS_DIR))
write_json(manifest, snakemake.output.manifest)
for stage in manifest["stages"]:
    log.info("%-14s %3d jobs %8.1f s", stage["stage"], stage["jobs"], stage["wall_s"])
