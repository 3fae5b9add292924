"""Analyses over k-sample builds: pass@k / maj@k curves, reasoning boundaries between models,
and the training signals that follow from them (Kimi k1.5 prioritized sampling, LIMR)."""
