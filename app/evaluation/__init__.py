"""Offline evaluation: splits and metrics shared by training and the benchmarks."""
