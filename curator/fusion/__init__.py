"""Hybrid thinking data (Qwen3 thinking-mode fusion) and R1's non-reasoning data."""
