"""Tests of the benchmark suite (bench/)."""
