"""Rewards: rule rewards as columns, and the reward functions RL trainers call."""
