# Model zoo: one self-describing bundle per (source, classifier, label scheme) with every
# fold's trained models, for `sendflow predict` on new videos: sources that a video alone
# gives, the learned extractors and the coders.


rule model_zoo:
    input:
        unpack(zoo_source_files),
        checked=after_checks,
        classifiers=lambda wildcards: model_results(temporal_model(wildcards.classifier).file_name, wildcards),
        metrics=lambda wildcards: model_results("metrics.json", wildcards),
        code=script_code("model_zoo.py"),
    output:
        bundle=directory(BUNDLE),
    log:
        log_path("model_zoo/{extractor}-{classifier}-{labels}"),
    benchmark:
        benchmark_path("model_zoo/{extractor}-{classifier}-{labels}")
    conda:
        "../envs/torch.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        folds=FOLDS,
        frames=settings("frames", *FRAME_KEYS),
        labels=lambda wildcards: {"name": wildcards.labels, **config["labels"]["schemes"][wildcards.labels]},
        data_root=config["data"]["root"],
        cv={"mode": config["cv"]["mode"], "k": config["cv"]["k"]},
        seed=SEED,
        source=zoo_source,
        config=lambda wildcards: {
            "frames": settings("frames", *FRAME_JOB_KEYS),  # not the frame check's: a check-only setting
            "extractor": settings("extractor", *EXTRACTOR_SETTINGS, "labels", "scope"),
            "coder": coder_settings(wildcards.extractor),
            "classifier": classifier_settings(config["classifier"], wildcards.classifier),
            "cv": config["cv"],
        },
    script:
        "../workflow_scripts/model_zoo.py"
