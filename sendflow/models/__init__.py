"""Models: frame extractors (resnet_attention), the temporal models (mstcn, sstcn, bigru, and
the per-step baselines in per_step), their output heads and losses, and the registry that finds
the temporal models (registry). Import from the modules, so that code using one model does not
load (or depend on) the others."""
