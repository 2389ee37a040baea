# Frame stage: one job per clip with video; face crops and valence on the rating grid.


rule frames:
    input:
        unpack(clip_inputs),
        code=package_code("frames/decode.py", "frames/faces.py", "frames/extract.py", "ratings.py"),
    output:
        npz="results/frames/{clip}.npz",
    params:
        frames=settings("frames"),
    threads: 1
    resources:
        mem_mb=config["frames"]["mem_mb"],
        runtime=30,
    group:
        "frames"
    conda:
        "../envs/data.yaml"
    log:
        "results/logs/frames/{clip}.log",
    benchmark:
        "results/benchmarks/frames/{clip}.tsv"
    script:
        "../workflow_scripts/extract_frames.py"


rule face_report:
    input:
        npz=lambda wildcards: frame_files(),
    output:
        table="results/frames/face_detection.tsv",
    params:
        clips=lambda wildcards: video_clips(),
        warn_below=0.5,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/data.yaml"
    log:
        "results/logs/face_report.log",
    benchmark:
        "results/benchmarks/face_report.tsv"
    script:
        "../workflow_scripts/face_report.py"
