"""verl's own classes on our exports: its reward managers call our compute_score, its RL dataset
reads our Parquet. Outside the test suite because verl does not install into the project's
environment: ``pip install verl`` (0.9.1) would downgrade transformers, huggingface_hub,
tokenizers and antlr4 (hydra's 4.9 pin), see RESULTS.md. So verl goes into its own directory,
put in front of the path for this script only:

    pip install --target /tmp/verl-site --no-deps verl==0.9.1 tensordict==0.10.0 codetiming pylatexenc \\
        omegaconf hydra-core "antlr4-python3-runtime==4.9.3" torchdata pyvers lazy-importer orjson
    PYTHONPATH=/tmp/verl-site:. python benchmarks/trainers.py

Checks, each printed with its result:
- ``NaiveRewardManager`` and ``BatchRewardManager``, with ``custom_reward_function.path/name``
  loaded by verl's own ``get_custom_reward_fn``, score a batch of responses: every reward equals
  ``grade`` on the decoded response (choice with option text, thousands separators, Chinese).
- ``default_compute_score`` accepts the export's default ``data_source`` (no NotImplementedError).
- ``RLHFDataset`` reads the ``VerlParquet`` file and returns our ``extra_info`` per row.
- LLaMA-Factory (``pip install --target /tmp/lf-site --no-deps llamafactory==0.9.5 peft``, then
  ``PYTHONPATH=/tmp/lf-site:.``): its ``get_dataset_list`` reads our ``dataset_info.json`` and its
  sharegpt converter aligns every row of the ``SFTMessages`` and ``ShareGPT`` exports, the
  ``<think>`` block kept in the response. Its ``llamafactory.data`` package imports torchaudio,
  which has no release for this project's torch (2.14), so the two modules are loaded without
  that package's ``__init__`` (their own code, unchanged).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from curator.answers import grade
from curator.publish.exports import VERL_DATA_SOURCE, VerlParquet

OPTIONS = {"A": "21", "B": "29", "C": "31", "D": "35"}
POOL = [
    {"id": "kg", "problem": "How many grams are in 1 kg?", "answer": "1000", "meta": None},
    {"id": "medqa", "problem": "Which number is prime?", "answer": "B", "meta": json.dumps({"options": OPTIONS})},
    {"id": "cmath", "problem": "小明有3盒铅笔，每盒4支，一共有多少支？", "answer": "12", "meta": None},
]
RESPONSES = {  # per problem: responses a policy could write, right and wrong
    "kg": ["<think> 1 kg is 1000 g </think> \\boxed{1,000}", "<think> hmm </think> \\boxed{100}"],
    "medqa": ["<think> 29 is prime </think> The answer is 29.", "<think> x </think> \\boxed{A}"],
    "cmath": ["<think> 每盒4支，3盒就是12支。 </think> 所以答案是12支。", "<think> x </think> \\boxed{7}"],
}


def word_tokenizer():
    """A word-level tokenizer over the responses' words (built here, nothing downloaded)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = ["<pad>", "<unk>", "<s>", "</s>"] + sorted({w for rs in RESPONSES.values() for r in rs for w in r.split()}
                                                      | {w for p in POOL for w in p["problem"].split()})
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(dict.fromkeys(words))}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="</s>")
    fast.chat_template = "{% for m in messages %}{{ m['content'] }} {% endfor %}"
    return fast


def batch(rows: list[dict], tok) -> tuple[object, list[tuple[str, str, str, dict | None]]]:
    """A DataProto as verl's rollout hands it to the reward manager (left-padded prompts)."""
    import numpy as np
    import torch
    from verl import DataProto

    items = [(row, r) for row in rows for r in RESPONSES[row["extra_info"]["id"]]]
    p_ids = [tok(row["prompt"][0]["content"], add_special_tokens=False)["input_ids"] for row, _ in items]
    r_ids = [tok(r, add_special_tokens=False)["input_ids"] for _, r in items]
    P, R = max(map(len, p_ids)), max(map(len, r_ids))
    prompts = torch.tensor([[tok.pad_token_id] * (P - len(p)) + p for p in p_ids])
    responses = torch.tensor([r + [tok.pad_token_id] * (R - len(r)) for r in r_ids])
    mask = torch.tensor([[0] * (P - len(p)) + [1] * len(p) + [1] * len(r) + [0] * (R - len(r))
                         for p, r in zip(p_ids, r_ids, strict=True)])
    data = DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": mask,
                 "input_ids": torch.cat([prompts, responses], dim=1)},
        non_tensors={"data_source": np.array([row["data_source"] for row, _ in items], dtype=object),
                     "reward_model": np.array([row["reward_model"] for row, _ in items], dtype=object),
                     "extra_info": np.array([dict(row["extra_info"]) for row, _ in items], dtype=object)})
    expected = []
    for row, r in items:
        info = row["extra_info"]
        options = json.loads(info["options"]) if info["options"] else None
        expected.append((tok.decode(tok(r, add_special_tokens=False)["input_ids"]), row["reward_model"]["ground_truth"],
                         info["answer_kind"], options))
    return data, expected


def config_for(path: str, name: str) -> object:
    """The two config lines (verl >= 0.9: under ``reward``; older verl: top-level)."""
    from omegaconf import OmegaConf

    return OmegaConf.create({"reward": {"custom_reward_function": {"path": path, "name": name, "reward_kwargs": {}}}})


def solved_table() -> pl.DataFrame:
    """Problems with one correct long-CoT sample each, as rejection sampling leaves them."""
    from curator.core.table import SAMPLES_DTYPE

    def sample(reasoning: str, final: str) -> list[dict]:
        return [{"text": f"<think>{reasoning}</think>{final}", "reasoning": reasoning, "final": final,
                 "correct": True, "status": "ok"}]

    return pl.DataFrame([
        {"id": "a", "problem": "What is 2+3?", "answer": "5", "samples": sample("2 plus 3 is 5.", "\\boxed{5}")},
        {"id": "b", "problem": "小明有3盒铅笔，每盒4支，一共有多少支？", "answer": "12",
         "samples": sample("每盒4支，3盒就是12支。", "\\boxed{12}")},
    ]).with_columns(pl.col("samples").cast(SAMPLES_DTYPE))


def llama_factory() -> int:
    """LLaMA-Factory's dataset parser and sharegpt converter on the SFT exports."""
    import importlib
    import types
    from types import SimpleNamespace

    import datasets
    import llamafactory

    from curator.publish.exports import SFTMessages, ShareGPT

    pkg = types.ModuleType("llamafactory.data")  # its __init__ imports torchaudio (multimodal plugins)
    pkg.__path__ = [str(Path(llamafactory.__file__).parent / "data")]
    sys.modules.setdefault("llamafactory.data", pkg)
    parser = importlib.import_module("llamafactory.data.parser")
    converter = importlib.import_module("llamafactory.data.converter")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for export in (SFTMessages(system="Reason step by step."), ShareGPT(system="Reason step by step.")):
            export.write(solved_table(), Path(tmp))
            dataset_dir = str(Path(tmp) / "data" / export.config)
            attr = parser.get_dataset_list([f"{export.config}_train"], dataset_dir)[0]
            ds = datasets.load_dataset("json", data_files=str(Path(dataset_dir) / attr.dataset_name), split="train",
                                       cache_dir=str(Path(tmp) / "hf"))
            conv = converter.get_dataset_converter(attr.formatting, attr, SimpleNamespace(media_dir=dataset_dir))
            rows = [conv(ex) for ex in ds]
            ok = (len(rows) == 2 and all(r["_system"] == "Reason step by step." for r in rows)
                  and rows[0]["_prompt"] == [{"role": "user", "content": "What is 2+3?"}]
                  and rows[0]["_response"][0]["content"].startswith("<think>\n2 plus 3 is 5.\n</think>")
                  and "<think>" in rows[1]["_response"][0]["content"])
            print(f"LLaMA-Factory {llamafactory.__version__}: {type(export).__name__} via dataset_info.json "
                  f"({attr.formatting}, {attr.load_from}) -> {len(rows)} aligned rows, think kept: {ok}")
            failures += not ok
    return failures


def main() -> int:
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.utils.reward_score import default_compute_score
    from verl.workers.reward_manager import get_reward_manager_cls

    import curator.rewards.verl_reward as ours

    failures = 0
    tok = word_tokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        files = VerlParquet(max_response_length=64).write(pl.DataFrame(POOL), Path(tmp))
        path = str(Path(tmp) / files[0].path)
        config = OmegaConf.create({"prompt_key": "prompt", "max_prompt_length": 256, "filter_overlong_prompts": True,
                                   "filter_overlong_prompts_workers": 1, "cache_dir": str(Path(tmp) / "cache")})
        ds = RLHFDataset(data_files=[path], tokenizer=tok, config=config)
        rows = [ds[i] for i in range(len(ds))]
        ok = len(ds) == len(POOL) and [r["extra_info"]["answer_kind"] for r in rows] == ["math", "choice", "math"] \
            and rows[2]["extra_info"]["language"] == "zh" and rows[0]["raw_prompt"][0]["role"] == "user"
        print(f"RLHFDataset reads the VerlParquet export: {len(ds)} rows, extra_info kept: {ok}")
        failures += not ok

    score = default_compute_score(VERL_DATA_SOURCE, "so \\boxed{5}", "5")
    print(f"default_compute_score({VERL_DATA_SOURCE!r}, ...) = {score} (no NotImplementedError)")

    data, expected = batch(rows, tok)
    want = [float(grade(t, g, k, options=o)) for t, g, k, o in expected]
    for manager, name in (("naive", "compute_score"), ("batch", "compute_score_batch")):
        fn = get_custom_reward_fn(config_for(ours.__file__, name))
        cls = get_reward_manager_cls(manager)
        t0 = time.perf_counter()
        out = cls(tokenizer=tok, num_examine=0, compute_score=fn)(data, return_dict=True)
        elapsed = time.perf_counter() - t0
        got = out["reward_tensor"].sum(dim=1).tolist()
        ok = got == want and list(out["reward_extra_info"]["acc"]) == want and 0 < sum(want) < len(want)
        print(f"{cls.__module__}.{cls.__name__} + reward.custom_reward_function.name={name}: rewards {got}, "
              f"grade {want}, equal: {ok} ({elapsed:.2f} s)")
        failures += not ok

    # verl's default path since its reward loop: one run_single per response, compute_score in a thread executor
    from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls as loop_manager_cls

    cfg = config_for(ours.__file__, "compute_score")
    loop_cls = loop_manager_cls("naive")
    reward_loop = loop_cls(cfg, tok, get_custom_reward_fn(cfg))

    async def score_all() -> list[dict]:
        return await asyncio.gather(*[reward_loop.run_single(data[i:i + 1]) for i in range(len(data))])

    t0 = time.perf_counter()
    results = reward_loop.loop.run_until_complete(score_all())
    elapsed = time.perf_counter() - t0
    got = [r["reward_score"] for r in results]
    ok = got == want and [r["reward_extra_info"]["acc"] for r in results] == want
    print(f"{loop_cls.__module__}.{loop_cls.__name__} (compute_score from executor threads): rewards {got}, "
          f"equal: {ok} ({elapsed:.2f} s)")
    failures += not ok
    return failures


if __name__ == "__main__":
    import importlib.util

    failed = 0
    for name, check in (("verl", main), ("llamafactory", llama_factory)):
        if importlib.util.find_spec(name) is None:
            print(f"{name}: not importable, skipped (see the install lines at the top of this file)")
            continue
        failed += check()
    sys.exit(1 if failed else 0)
