# sendflow: learn emotional valence over time from facial video (SENDv1 layout).
# Run `snakemake --cores N` (or `sendflow --cores N` for dotted --config keys); see README.md.

import gc

from snakemake.utils import min_version

min_version("9.0")

# What Snakemake has imported lives as long as the process: leave it out of the garbage
# collector's full passes, which building a SENDv1-sized DAG otherwise repeats over it
# (bench/README.md).
gc.freeze()

# No configfile directive: the schema holds every default, and config.yaml (its commented
# copy) is read by rules/common.smk, which also validates the whole config.


include: "rules/common.smk"
include: "rules/dataset.smk"
include: "rules/frames.smk"
include: "rules/extractor.smk"
include: "rules/sources.smk"
include: "rules/classifier.smk"
include: "rules/model_zoo.smk"
include: "rules/report.smk"


# The report's front page: report/workflow.rst, with the run's headline once rule report_pages
# has written it.
_HOME = f"{REPORT_PAGES_DIR}/workflow.rst"


report: os.path.abspath(_HOME) if os.path.exists(_HOME) else "report/workflow.rst"


rule all:
    default_target: True
    input:
        final_outputs(),
