"""What to keep: difficulty, curricula, RL pools, small SFT sets, rejection sampling, consensus, probes, domains."""
