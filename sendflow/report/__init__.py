"""Results people can read: aggregation over folds, paired comparisons, run manifest."""
