"""Filters: stages that drop rows or samples, each drop with a reason (one module per concern)."""
