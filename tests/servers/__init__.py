"""Real servers on loopback for tests and benchmarks (no mocks of the client under test)."""
