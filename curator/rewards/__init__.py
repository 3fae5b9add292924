"""Rewards: rule rewards as columns, and the reward functions RL trainers call.

- ``columns``: ``reward_accuracy`` / ``reward_format`` as sample columns (the ``Rewards`` stage).
- ``rules``: format (``<think>``, ``<answer>``), language consistency, soft overlong, weights.
- ``batch``: accuracy through ``curator.answers.grade`` in worker processes with a time limit.
- ``scoring``: every part for a batch, from a row's grading fields (``Target``).
- ``verl_reward`` (``compute_score``), ``trl_reward`` (GRPOTrainer functions),
  ``openrlhf_reward`` (``reward_func``): the signatures each trainer calls.
"""
