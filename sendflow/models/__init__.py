"""Models: frame extractors (resnet_attention), temporal models (mstcn, sequence_baselines),
per-step baselines (per_step), their output heads and losses. Import from the modules, so
that code using one model does not load (or depend on) the others."""
