"""Benchmarks: what nsmigrate costs a cluster, as ratios against baselines measured in the same run."""
