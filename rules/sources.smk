# Feature sources that are not a learned extractor (sendflow/sources/): tables of per-frame
# features that other tools wrote (tables.<name>; one steps file for all folds, then one
# standardised file per fold, for every repeat: nothing is trained), and fusions of sources
# (fusions.<name>; one file per fold and repeat where a member is trained).


rule table_steps:
    input:
        clips=index_clips,
        files=lambda wildcards: table_inputs(wildcards.extractor),
        code=lambda wildcards: table_code(wildcards.extractor),
    output:
        steps=TABLE_STEPS,
    log:
        log("features/{extractor}/steps"),
    benchmark:
        benchmark("features/{extractor}/steps")
    wildcard_constraints:
        extractor="|".join(TABLES),
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=lambda wildcards: config["tables"][wildcards.extractor]["mem_mb"],
        runtime=30,
    params:
        # mappings, so that Snakemake does not format the patterns' braces as wildcards
        table=lambda wildcards: without_resources(config["tables"][wildcards.extractor]),
        files=lambda wildcards: table_files(wildcards.extractor),
        dataset=lambda wildcards: file_stamps(table_inputs(wildcards.extractor)),
    script:
        "../workflow_scripts/table_steps.py"


rule table_features:
    input:
        steps=TABLE_STEPS,
        folds=index_folds,
        code=script_code("table_features.py"),
    output:
        features=TABLE_FEATURES,
    log:
        log("features/{extractor}/fold{fold}"),
    benchmark:
        benchmark("features/{extractor}/fold{fold}")
    wildcard_constraints:
        extractor="|".join(TABLES),
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=lambda wildcards: config["tables"][wildcards.extractor]["mem_mb"],
        runtime=10,
    script:
        "../workflow_scripts/table_features.py"


rule fusion_features:
    input:
        checked=after_checks,
        members=fusion_inputs,
        folds=index_folds,
        code=script_code("fusion_features.py"),
    output:
        features=FEATURES,
    log:
        log("features/{extractor}/fold{fold}{repeat}"),
    benchmark:
        benchmark("features/{extractor}/fold{fold}{repeat}")
    wildcard_constraints:
        extractor="|".join(FUSIONS),
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=lambda wildcards: config["fusions"][wildcards.extractor]["mem_mb"],
        runtime=10,
    params:
        # what the fusion job reads: its members and components (modality dropout is read by
        # the classifiers only, so changing it reruns none of these jobs)
        fusion=lambda wildcards: {key: config["fusions"][wildcards.extractor][key] for key in ("of", "components")},
    script:
        "../workflow_scripts/fusion_features.py"
