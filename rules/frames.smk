# Frame stage: one job per clip with video; face crops and valence on the rating grid.


rule frames:
    input:
        unpack(clip_inputs),
        code=script_code("extract_frames.py"),
    output:
        npz=FRAMES,
    log:
        log("frames/{clip}"),
    benchmark:
        benchmark("frames/{clip}")
    group:
        "frames"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=config["frames"]["mem_mb"],
        runtime=30,
    params:
        frames=settings("frames"),
        dataset=clip_stamps,
    script:
        "../workflow_scripts/extract_frames.py"


rule face_report:
    input:
        npz=lambda wildcards: frame_files(),
        code=script_code("face_report.py"),
    output:
        table=FACE_DETECTION,
    log:
        log("face_report"),
    benchmark:
        benchmark("face_report")
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        clips=lambda wildcards: video_clips(),
        warn_below=0.5,
    script:
        "../workflow_scripts/face_report.py"
