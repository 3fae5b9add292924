"""Offline vLLM on a GPU machine: one ``LLM.chat`` call, ``SamplingParams(n=k)`` per prompt.

vLLM shares the prompt's prefill among the k samples. Optional: ``pip install
'reasoning-curator[vllm]'``; without it, choosing this backend fails with that line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curator.generation.types import BackendStats, Completion, Job, OnResult

INSTALL_HINT = "the vllm backend needs vLLM on a CUDA machine: pip install 'reasoning-curator[vllm]'"


@dataclass
class VLLMBackend:
    model: str = "Qwen/Qwen2.5-Math-1.5B-Instruct"
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    llm_kwargs: dict[str, Any] = field(default_factory=dict)  # passed to vllm.LLM as is
    stats: BackendStats = field(default_factory=BackendStats, repr=False, compare=False)
    _llm: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            import vllm  # noqa: F401
        except ImportError:
            raise ImportError(INSTALL_HINT) from None

    def identity(self) -> dict[str, Any]:
        return {"kind": "vllm", "model": self.model, "max_model_len": self.max_model_len}

    def _load(self) -> Any:
        if self._llm is None:
            from vllm import LLM

            self._llm = LLM(model=self.model, tensor_parallel_size=self.tensor_parallel_size,
                            gpu_memory_utilization=self.gpu_memory_utilization,
                            max_model_len=self.max_model_len, **self.llm_kwargs)
        return self._llm

    def run(self, jobs: list[Job], on_result: OnResult) -> None:
        from vllm import SamplingParams

        llm = self._load()
        params = [SamplingParams(n=len(j.indices), temperature=j.sampling.temperature, top_p=j.sampling.top_p,
                                 max_tokens=j.sampling.max_tokens, seed=j.sampling.seed + j.indices[0])
                  for j in jobs]
        self.stats.requests += len(jobs)
        outputs = llm.chat([j.messages for j in jobs], params, use_tqdm=False)
        for job, out in zip(jobs, outputs, strict=True):
            n_prompt = len(out.prompt_token_ids or [])
            for idx, choice in zip(job.indices, out.outputs, strict=False):
                on_result(job, Completion(index=idx, text=choice.text, finish_reason=choice.finish_reason,
                                          prompt_tokens=n_prompt, completion_tokens=len(choice.token_ids),
                                          model=self.model, seed=job.sampling.seed + job.indices[0], via="n"))

    def close(self) -> None:
        self._llm = None
