# Results people read: fold scores aggregated, paired comparisons, figures, run manifest.
# Every rule reads cached outputs only; `snakemake --report results/report.html` gathers the
# files registered with report() into one self-contained page.


rule aggregate:
    input:
        checked=after_checks,
        metrics=classifier_results("metrics.json"),
        predictions=classifier_results("predictions.parquet"),
        code=script_code("aggregate.py"),
    output:
        summary=f"{METRICS_DIR}/summary.csv",
        summary_md=f"{METRICS_DIR}/summary.md",
        folds=f"{METRICS_DIR}/folds.csv",
        per_speaker=f"{METRICS_DIR}/per_speaker.csv",
        per_clip=f"{METRICS_DIR}/per_clip.csv",
    log:
        log_path("report/aggregate"),
    benchmark:
        benchmark_path("report/aggregate")
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow_scripts/aggregate.py"


rule compare:
    input:
        checked=after_checks,
        folds=rules.aggregate.output.folds,
        per_clip=rules.aggregate.output.per_clip,
        per_speaker=rules.aggregate.output.per_speaker,
        extractors=extractor_summaries,
        code=script_code("compare.py"),
    output:
        markdown=f"{METRICS_DIR}/comparisons.md",
        table=f"{METRICS_DIR}/comparisons.csv",
    log:
        log_path("report/compare"),
    benchmark:
        benchmark_path("report/compare")
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        metric=config["report"]["metric"],
        uses=fusion_runs(),
    script:
        "../workflow_scripts/compare.py"


rule manifest:
    input:
        checked=after_checks,
        summary=rules.aggregate.output.summary,
        comparisons=rules.compare.output.table,
        code=script_code("write_manifest.py"),
    output:
        manifest=f"{METRICS_DIR}/manifest.json",
    log:
        log_path("report/manifest"),
    benchmark:
        benchmark_path("report/manifest")
    conda:
        "../envs/torch.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../workflow_scripts/write_manifest.py"


rule report_pages:
    input:
        checked=after_checks,
        summary=rules.aggregate.output.summary,
        folds=rules.aggregate.output.folds,
        per_speaker=rules.aggregate.output.per_speaker,
        per_clip=rules.aggregate.output.per_clip,
        comparisons=rules.compare.output.table,
        faces=lambda wildcards: FACE_DETECTION if NEEDS_VIDEO else [],
        extractors=extractor_summaries,
        manifest=rules.manifest.output.manifest,
        home=os.path.relpath(os.path.join(workflow.basedir, "report", "workflow.rst")),
        code=script_code("report_pages.py"),
    output:
        summary=report_page("summary", "0. Summary", "summary", "summary"),
        folds=report_page("folds", "1. Tables", "per fold", "tables"),
        per_speaker=report_page("per_speaker", "1. Tables", "per speaker", "tables"),
        per_clip=report_page("per_clip", "1. Tables", "per clip", "tables"),
        comparisons=report_page("comparisons", "1. Tables", "paired comparisons", "comparisons"),
        faces=report_page("face_detection", "1. Tables", "face detection", "tables"),
        manifest=report_page("manifest", "4. Run", "manifest", "manifest"),
        home=f"{REPORT_PAGES_DIR}/workflow.rst",
    log:
        log_path("report/report_pages"),
    benchmark:
        benchmark_path("report/report_pages")
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        official=config["cv"]["mode"] == "official",  # sets the Test scores beside the published ones
        modalities={name: modality(name, config) for name in config["extractor"]["kinds"]},
    script:
        "../workflow_scripts/report_pages.py"


# --- figures: each from cached outputs only; only report.* settings reach them -------------


rule figure_comparison:
    input:
        checked=after_checks,
        summary=rules.aggregate.output.summary,
        folds=rules.aggregate.output.folds,
        code=script_code("figure_comparison.py"),
    output:
        png=report(
            f"{FIGURES_DIR}/comparison.png",
            category="0. Summary",
            labels={"figure": "comparison bar chart"},
            caption="../report/comparison.rst",
        ),
    log:
        log_path("report/figure_comparison"),
    benchmark:
        benchmark_path("report/figure_comparison")
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        metric=config["report"]["metric"],
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_comparison.py"


rule figure_effects:
    input:
        checked=after_checks,
        comparisons=rules.compare.output.table,
        code=script_code("figure_effects.py"),
    output:
        png=report(
            f"{FIGURES_DIR}/effects.png",
            category="0. Summary",
            labels={"figure": "effects forest plot"},
            caption="../report/effects.rst",
        ),
    log:
        log_path("report/figure_effects"),
    benchmark:
        benchmark_path("report/figure_effects")
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_effects.py"


rule figure_confusion:
    input:
        checked=after_checks,
        metrics=lambda wildcards: classifier_results("metrics.json", labels=wildcards.labels),
        code=script_code("figure_confusion.py"),
    output:
        png=report(
            f"{FIGURES_DIR}/confusion_{{labels}}.png",
            category="2. Figures",
            subcategory="Confusion matrices",
            labels={"labels": "{labels}"},
            caption="../report/confusion.rst",
        ),
    log:
        log_path("report/figure_confusion_{labels}"),
    benchmark:
        benchmark_path("report/figure_confusion_{labels}")
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        labels=lambda wildcards: wildcards.labels,
        class_names=lambda wildcards: config["labels"]["schemes"][wildcards.labels]["names"],
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_confusion.py"


rule figure_timelines:
    input:
        checked=after_checks,
        predictions=lambda wildcards: MODEL_RESULT.format(
            **timeline_model(), fold=wildcards.fold, repeat="", name="predictions.parquet"
        ),
        code=script_code("figure_timelines.py"),
    output:
        folder=report(
            directory(f"{FIGURES_DIR}/timelines/fold{{fold}}"),
            patterns=["{order,\\d+}_{clip}_ccc{ccc}.png"],
            category="3. Valence over time",
            subcategory="fold {fold}",
            labels={"order": "{order}", "clip": "{clip}", "CCC": "{ccc}"},
            caption="../report/timelines.rst",
        ),
    log:
        log_path("report/figure_timelines_fold{fold}"),
    benchmark:
        benchmark_path("report/figure_timelines_fold{fold}")
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        scheme=config["labels"]["schemes"][timeline_model()["labels"]],
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_timelines.py"


rule figure_curves:
    input:
        checked=after_checks,
        histories=classifier_results("history.csv", repeat=""),  # repeat 0: one curve per fold
        code=script_code("figure_curves.py"),
    output:
        png=report(
            f"{FIGURES_DIR}/training_classifier.png",
            category="2. Figures",
            subcategory="Training curves",
            labels={"stage": "classifier"},
            caption="../report/curves.rst",
        ),
    log:
        log_path("report/figure_curves"),
    benchmark:
        benchmark_path("report/figure_curves")
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        stage="classifier",
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_curves.py"


use rule figure_curves as figure_curves_extractor with:
    input:
        checked=after_checks,
        histories=sorted({extractor_file(e, k, "history.csv") for e in learned_extractors() for k in FOLDS}),
        code=script_code("figure_curves.py"),
    output:
        png=report(
            f"{FIGURES_DIR}/training_extractor.png",
            category="2. Figures",
            subcategory="Training curves",
            labels={"stage": "extractor"},
            caption="../report/curves.rst",
        ),
    log:
        log_path("report/figure_curves_extractor"),
    benchmark:
        benchmark_path("report/figure_curves_extractor")
    params:
        stage="extractor",
        dpi=config["report"]["dpi"],


rule figure_attention:
    input:
        checked=after_checks,
        models=lambda wildcards: [extractor_file(wildcards.extractor, fold) for fold in ATTENTION_FOLDS],
        summaries=lambda wildcards: [
            extractor_file(wildcards.extractor, fold, "summary.json") for fold in ATTENTION_FOLDS
        ],
        folds=index_folds,
        frames=lambda wildcards: frame_files(),
        code=script_code("figure_attention.py"),
    output:
        png=report(
            f"{FIGURES_DIR}/attention_{{extractor}}.png",
            category="2. Figures",
            subcategory="Attention",
            labels={"extractor": "{extractor}"},
            caption="../report/attention.rst",
        ),
    log:
        log_path("report/figure_attention_{extractor}"),
    benchmark:
        benchmark_path("report/figure_attention_{extractor}")
    conda:
        "../envs/torch.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        folds=ATTENTION_FOLDS,
        n_frames=config["report"]["attention"]["frames"],
        include_faces=include_faces(),
        seed=SEED,
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_attention.py"
