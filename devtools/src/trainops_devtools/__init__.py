"""Development tooling for trainops: local servers, the supervisor and the test harness.

Services and ``trainops_shared`` never import this package; the CLI, the benchmarks and the
tests do.
"""
