"""Frame-level valence extractor: datasets over per-clip frame files (`data`), augmentation,
training (`train`) and its take-off check. Loading a trained extractor is inference and lives
beside its model, in `sendflow.models.resnet_attention`."""
