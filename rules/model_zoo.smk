# Model zoo: one self-describing bundle per (extractor, classifier, label scheme) with every
# fold's trained models, for `sendflow predict` on new videos.


rule model_zoo:
    input:
        extractors=lambda wildcards: [extractor_file(wildcards.extractor, fold) for fold in FOLDS],
        classifiers=lambda wildcards: model_results("model.pt", wildcards),
        metrics=lambda wildcards: model_results("metrics.json", wildcards),
        code=package_code("zoo/bundle.py", "zoo/card.py", "report/aggregate.py", "report/manifest.py"),
    output:
        bundle=directory("results/model_zoo/{extractor}-{classifier}-{labels}"),
    wildcard_constraints:
        extractor="|".join(EXTRACTORS),
        classifier="|".join(CLASSIFIERS),
    params:
        folds=FOLDS,
        frames=settings("frames", *FRAME_KEYS),
        labels=lambda wildcards: {"name": wildcards.labels, **config["labels"]["schemes"][wildcards.labels]},
        data_root=config["data"]["root"],
        cv={"mode": config["cv"]["mode"], "k": config["cv"]["k"]},
        seed=SEED,
        config=lambda wildcards: {
            "frames": settings("frames"),
            "extractor": settings("extractor"),
            "classifier": classifier_settings(config["classifier"], wildcards.classifier),
            "cv": config["cv"],
        },
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/torch.yaml"
    log:
        "results/logs/model_zoo/{extractor}-{classifier}-{labels}.log",
    benchmark:
        "results/benchmarks/model_zoo/{extractor}-{classifier}-{labels}.tsv"
    script:
        "../workflow_scripts/model_zoo.py"
