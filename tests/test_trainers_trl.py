"""Real TRL trainers on our exports: GRPOTrainer scores rollouts with curator.rewards, SFTTrainer
trains on the SFT export. The model is a tiny randomly initialised Llama built here and the
tokenizer a word-level one built with ``tokenizers`` (no download). Its vocabulary holds
whole answers (``\\boxed{12}``) so that random rollouts are sometimes right, sometimes wrong."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from curator.answers import grade
from curator.core.table import SAMPLES_DTYPE
from curator.publish.exports import GRPOPrompts, SFTMessages
from curator.rewards import trl_reward
from curator.rewards.rules import completion_text, think_format

CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}assistant: {% endif %}")
#: a sentence end after each box, so that consecutive boxes are drafts (the last counts), not one multi-part answer
ANSWER_WORDS = ["\\boxed{12}.", "\\boxed{5}.", "\\boxed{B}.", "\\boxed{29}.", "\\boxed{1,000}.", "\\boxed{7}."]
WORDS = ["<think>", "</think>", "so", "答案", "计算", *ANSWER_WORDS]
OPTIONS = {"A": "21", "B": "29", "C": "31", "D": "35"}


def tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<s>", "</s>"]
    words = dict.fromkeys(specials + WORDS)
    vocab = {w: i for i, w in enumerate(words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins words with a space
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
                                   eos_token="</s>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_model(tok):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                         pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    return LlamaForCausalLM(config)


def pool() -> pl.DataFrame:
    """An RL pool in the layouts of CMath (Chinese), MedQA (choice with option texts) and MATH."""
    return pl.DataFrame([
        {"id": "cmath", "problem": "小明有3盒铅笔，每盒4支，一共有多少支？", "answer": "12", "meta": None},
        {"id": "medqa", "problem": "Which number is prime?", "answer": "B", "meta": json.dumps({"options": OPTIONS})},
        {"id": "math", "problem": "How many grams are in 1 kg?", "answer": "1000", "meta": None},
        {"id": "math2", "problem": "What is 2+3?", "answer": "5", "meta": None},
    ])


def test_grpo_trainer_logs_the_rewards_grade_gives(tmp_path):
    import datasets
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    files = GRPOPrompts().write(pool(), tmp_path)
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / files[0].path), split="train",
                               cache_dir=str(tmp_path / "hf"))
    tok = tiny_tokenizer()
    funcs, weights = trl_reward.reward_funcs({"accuracy": 1.0, "format": 0.5, "language": 0.1})
    funcs.append(trl_reward.combined_reward({"accuracy": 1.0, "format": 0.5}))
    weights.append(0.0)
    args = GRPOConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=16, num_generations=4,
                      max_completion_length=8, max_steps=2, learning_rate=1e-2, logging_steps=1, report_to=[],
                      use_cpu=True, bf16=False, save_strategy="no", reward_weights=weights, beta=0.0, seed=0,
                      dataloader_num_workers=0, temperature=2.0)  # near-uniform rollouts

    class Capture(TrainerCallback):
        steps: list = []

        def on_step_end(self, args, state, control, **kwargs):
            logs = trainer._logs  # what GRPOTrainer logs per completion (its completions table), last batch

            self.steps.append((list(logs["prompt"]), list(logs["completion"]),
                               {k: list(v) for k, v in logs["rewards"].items()}))

    trainer = GRPOTrainer(model=tiny_model(tok), reward_funcs=funcs, args=args, train_dataset=ds,
                          processing_class=tok, callbacks=[Capture()])
    trainer.train()

    assert len(Capture.steps) == 2
    rows = pool().to_dicts()
    graded = correct = 0
    for step, (prompts, completions, rewards) in enumerate(Capture.steps):
        assert len(completions) == 16
        for i, (prompt, completion) in enumerate(zip(prompts, completions, strict=True)):
            text = completion_text(completion)  # conversational: [{"role": "assistant", "content": ...}]
            row = next((r for r in rows if r["problem"] in str(prompt)), None)
            assert row is not None, prompt
            options = OPTIONS if row["id"] == "medqa" else None
            ok = grade(text, row["answer"], "choice" if options else "math", options=options)
            assert rewards["accuracy_reward"][i] == float(ok), (text, row["answer"])
            assert rewards["think_format_reward"][i] == think_format(text)
            assert rewards["combined_reward"][i] == pytest.approx(float(ok) + 0.5 * think_format(text))
            graded += 1
            correct += bool(ok)
        mean = next(h for h in trainer.state.log_history if h.get("step") == step + 1)
        assert mean["rewards/accuracy_reward/mean"] == pytest.approx(
            sum(rewards["accuracy_reward"]) / len(completions), abs=1e-6)
    assert graded == 32 and 0 < correct < graded  # random rollouts over a vocabulary of whole answers hit some
    assert all(math.isfinite(h["loss"]) for h in trainer.state.log_history if "loss" in h)


def solved() -> pl.DataFrame:
    def s(reasoning: str, final: str) -> dict:
        return {"text": f"<think>{reasoning}</think>{final}", "reasoning": reasoning, "final": final,
                "correct": True, "status": "ok"}

    rows = [{"id": "a", "problem": "What is 2+3?", "answer": "5", "samples": [s("so the answer is 5", "\\boxed{5}.")]},
            {"id": "b", "problem": "What is 3*4?", "answer": "12", "samples": [s("计算 12", "\\boxed{12}.")]}]
    return pl.DataFrame(rows).with_columns(pl.col("samples").cast(SAMPLES_DTYPE))


def test_sft_trainer_step_on_the_sft_export_keeps_the_think_block(tmp_path):
    import datasets
    from trl import SFTConfig, SFTTrainer

    files = SFTMessages().write(solved(), tmp_path)
    ds = datasets.load_dataset("json", data_files=str(tmp_path / files[0].path), split="train",
                               cache_dir=str(tmp_path / "hf"))
    tok = tiny_tokenizer()
    args = SFTConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=2, max_steps=1, report_to=[],
                     use_cpu=True, bf16=False, save_strategy="no", logging_steps=1, dataloader_num_workers=0)
    trainer = SFTTrainer(model=tiny_model(tok), args=args, train_dataset=ds, processing_class=tok)
    trained = tok.decode(trainer.train_dataset[0]["input_ids"])
    assert "<think> so <unk> <unk> <unk> <unk> </think> \\boxed{5}." in trained  # the think block, then the answer
    trainer.train()
    assert math.isfinite(trainer.state.log_history[-1]["train_loss"])


def test_reasoning_field_export_renders_through_a_template_that_reads_it(tmp_path):
    import datasets

    files = SFTMessages(reasoning_field="reasoning_content").write(solved(), tmp_path)
    ds = datasets.load_dataset("json", data_files=str(tmp_path / files[0].path), split="train",
                               cache_dir=str(tmp_path / "hf"))
    msg = ds[0]["messages"][-1]
    assert msg["content"] == "\\boxed{5}." and msg["reasoning_content"] == "so the answer is 5"
    tok = tiny_tokenizer()
    tok.chat_template = ("{% for m in messages %}{{ m['role'] }}: {% if m.get('reasoning_content') %}<think>\n"
                         "{{ m['reasoning_content'] }}\n</think>\n\n{% endif %}{{ m['content'] }}\n{% endfor %}")
    text = tok.apply_chat_template(ds[0]["messages"], tokenize=False)
    assert "<think>\nso the answer is 5\n</think>\n\n\\boxed{5}." in text
