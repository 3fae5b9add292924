"""The engine: table model, stages, pipeline runner, caches, fingerprints, funnel, storage, I/O, parameters."""
