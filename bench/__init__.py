"""Benchmarks that print BENCH lines (`make bench`). They measure; tests assert."""
