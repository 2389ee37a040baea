# Feature sources that need no video: SEND's own Emotient action units (every clip, limited-use
# ones too; not trained, so one file per fold for every repeat), and their fusion with a learned
# extractor's features (one file per fold and repeat).


rule emotient_steps:
    input:
        clips=index_clips,
        emotient=lambda wildcards: emotient_files(),
        code=script_code("emotient_steps.py"),
    output:
        steps=EMOTIENT_STEPS,
    log:
        log("features/emotient/steps"),
    benchmark:
        benchmark("features/emotient/steps")
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=config["emotient"]["mem_mb"],
        runtime=30,
    params:
        columns=config["emotient"]["columns"],
        dataset=lambda wildcards: file_stamps(emotient_files()),
    script:
        "../workflow_scripts/emotient_steps.py"


rule emotient_features:
    input:
        steps=rules.emotient_steps.output.steps,
        folds=index_folds,
        code=script_code("emotient_features.py"),
    output:
        features=EMOTIENT_FEATURES,
    log:
        log("features/emotient/fold{fold}"),
    benchmark:
        benchmark("features/emotient/fold{fold}")
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=config["emotient"]["mem_mb"],
        runtime=10,
    script:
        "../workflow_scripts/emotient_features.py"


rule fused_features:
    input:
        checked=after_checks,
        learned=FEATURES.replace("{extractor}", config["emotient"]["fuse_with"]),
        emotient=rules.emotient_features.output.features,
        folds=index_folds,
        code=script_code("fused_features.py"),
    output:
        features=FEATURES.replace("{extractor}", FUSED),
    log:
        log("features/fused/fold{fold}{repeat}"),
    benchmark:
        benchmark("features/fused/fold{fold}{repeat}")
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=config["emotient"]["mem_mb"],
        runtime=10,
    params:
        components=config["emotient"]["fuse_components"],
    script:
        "../workflow_scripts/fused_features.py"
