"""Repair instead of drop: a model rewrites a correct chain that broke a language or readability rule.

R1 refined its cold-start chains into a readable pattern (reasoning, then a summary) by
post-processing, and dropped language-mixed chains in rejection sampling, losing the correct
reasoning they held. ``Rewrite`` sits before the filters: for each correct sample that breaks a
repairable rule it asks a model to translate the foreign sentences into the problem's language
and restructure the chain as reasoning then summary, keeping the final answer. The rewrite
replaces the sample only if it passes again: the verify pool must find the same final answer
(equivalent to the original and still correct) and the same rules must pass. Every attempt is
recorded on the sample (``rewrite_trigger``, ``rewrite_status``, ``original_text``); a rejected
rewrite leaves the original, which the filters after it drop with their usual reason.

This extends R1's published recipe (R1 repaired by hand and by dropping); it is off by default
(``--param repair=true`` in the cold-start and rejection-sampling recipes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

from curator.answers.verify import DEFAULT_TIMEOUT_S, VerifyPool, equivalent_item, grade_item, row_kinds
from curator.core.samples import explode_samples, implode_samples
from curator.core.stage import SAMPLE_CONTEXT, Stage, StageOutput
from curator.generation.model_stage import CallsModel, resolve_backend
from filters.language import consistency_reasons, detect_language
from filters.readability import ReadabilityRules, readability_reason

#: rule failures a rewrite can fix; truncation, failed requests or a missing answer cannot be repaired
REPAIRABLE = ("language mixing (ratio)", "language mixing (foreign sentence)", "long paragraph",
              "repetition (lines)", "repetition (n-grams)")
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}

REWRITE_SYSTEM = {
    "en": ("You edit solutions without changing their mathematics. Rewrite the solution entirely in {language}: "
           "translate every sentence in another language, split walls of text into short steps, remove repeated "
           "text. Keep every reasoning step and the same final answer. Write the reasoning inside <think></think>, "
           "then a short summary, then the final answer in \\boxed{{}}."),
    "zh": ("你负责改写解答，但不改变其中的数学内容。请把整个解答改写为{language}：翻译其中所有其他语言的句子，把大段文字拆成简短的步骤，"
           "删去重复内容。保留每一个推理步骤和相同的最终答案。先在 <think></think> 中写推理过程，然后写简短总结，最后把最终答案写在 \\boxed{{}} 中。"),
}


def rewrite_request(problem: str, text: str, language: str) -> list[dict[str, str]]:
    """The chat request that asks for a repaired chain in ``language``."""
    lang = language if language in REWRITE_SYSTEM else "en"
    system = REWRITE_SYSTEM[lang].format(language=LANGUAGE_NAMES.get(language, language))
    label = ("题目", "解答") if lang == "zh" else ("Problem", "Solution")
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"{label[0]}:\n{problem}\n\n{label[1]}:\n{text}"}]


@dataclass
class RuleCheck:
    """The rules a chain must pass, as the filters after ``Rewrite`` apply them."""

    readability: ReadabilityRules = field(default_factory=ReadabilityRules)
    lang_threshold: float = 0.95  # LanguageConsistency's default (R1; cut-off unpublished)
    max_foreign_run: int | None = 4  # LanguageConsistency's default

    def reason(self, sample: dict[str, Any], language: str | None, domain: str | None) -> str | None:
        """The first rule the sample breaks (readability first, as the recipes order the filters)."""
        why = readability_reason(sample.get("text"), sample.get("reasoning"), sample.get("final"),
                                 sample.get("extracted"), sample.get("finish_reason"), sample.get("status"),
                                 domain, rules=self.readability)
        if why is not None or not language:
            return why
        text = sample.get("reasoning") or sample.get("text")
        _, reasons = consistency_reasons([text], [language], self.lang_threshold, self.max_foreign_run)
        return reasons[0]


@dataclass
class Rewrite(CallsModel, Stage):
    """Rewrites correct samples that break a repairable rule; keeps a rewrite only if it passes again."""

    backend: Any = "embedded"
    rules: RuleCheck = field(default_factory=RuleCheck)
    kind: str = "math"  # answer kind for rows whose meta names none
    max_tokens: int = 4096  # a rewrite is about as long as the chain (R1 math chains: ~6k tokens)
    temperature: float = 0.0
    seed: int = 0
    workers: int = 2
    timeout_s: float = DEFAULT_TIMEOUT_S

    needs: ClassVar[tuple[str, ...]] = ("problem", "answer", "samples.correct", "samples.extracted")
    adds: ClassVar[tuple[str, ...]] = ("samples.rewrite_trigger", "samples.rewrite_status", "samples.original_text")

    def __post_init__(self) -> None:
        self.backend = resolve_backend(self.backend)

    def apply(self, df: pl.DataFrame) -> StageOutput:
        from curator.generation import complete

        languages = (df["language"].to_list() if "language" in df.columns else [None] * df.height)
        languages = [lang or detect_language(p or "") for lang, p in zip(languages, df["problem"].to_list(),
                                                                           strict=True)]
        df_lang = df.with_columns(pl.Series("language", languages, pl.String))
        kinds = dict(zip(df_lang["id"].to_list(), row_kinds(df_lang, self.kind), strict=True))
        flat = explode_samples(df_lang, SAMPLE_CONTEXT)
        rows = flat.to_dicts()
        todo = []
        for i, s in enumerate(rows):
            s.update(rewrite_trigger=None, rewrite_status=None, original_text=None)
            if s.get("correct") is not True or kinds[s["id"]][0] == "code":  # code: repaired by tests, not here
                continue
            why = self.rules.reason(s, s.get("language"), s.get("domain"))
            if why in REPAIRABLE:
                s["rewrite_trigger"] = why
                todo.append(i)
        info: dict[str, Any] = {"rewrites_tried": len(todo), "rewrites_accepted": 0}
        if todo:
            convs = [rewrite_request(rows[i]["problem"] or "", rows[i].get("text") or "", rows[i]["language"])
                     for i in todo]
            replies = complete(self.backend, convs, n=1, temperature=self.temperature, max_tokens=self.max_tokens,
                               seed=self.seed, cache=self.cache_path)
            new = [r[0] if r else {"status": "failed"} for r in replies]
            with VerifyPool(self.workers, self.timeout_s) as pool:
                graded = pool.map(grade_item, [(n.get("final") if n.get("final") is not None else n.get("text"),
                                                rows[i]["answer"], *kinds[rows[i]["id"]])
                                               for i, n in zip(todo, new, strict=True)])
                same = pool.map(equivalent_item, [(rows[i].get("extracted"), g.value[0] if g.error is None else None,
                                                   *kinds[rows[i]["id"]]) for i, g in zip(todo, graded, strict=True)])
            for i, n, g, eq in zip(todo, new, graded, same, strict=True):
                status = self._judge(rows[i], n, g, eq)
                rows[i]["rewrite_status"] = status
                if status == "accepted":
                    info["rewrites_accepted"] += 1
                    rows[i].update(original_text=rows[i].get("text"), text=n.get("text"), reasoning=n.get("reasoning"),
                                   final=n.get("final"), extracted=g.value[0])
                else:
                    key = "rewrites_" + status.replace(" ", "_").replace(":", "")
                    info[key] = info.get(key, 0) + 1
        out = pl.DataFrame(rows, schema={**flat.schema, "rewrite_trigger": pl.String, "rewrite_status": pl.String,
                                         "original_text": pl.String}, infer_schema_length=None)
        return StageOutput(implode_samples(df_lang, out), info=info)

    def _judge(self, old: dict[str, Any], new: dict[str, Any], graded: Any, same: Any) -> str:
        if new.get("status") == "failed":
            return "rejected: request failed"
        if graded.error is not None or same.error is not None:
            return f"rejected: grading failed ({graded.error or same.error})"
        extracted, correct = graded.value
        if extracted is None:
            return "rejected: no final answer"
        if correct is not True or same.value is not True:
            return "rejected: answer changed"
        candidate = {**old, "text": new.get("text"), "reasoning": new.get("reasoning"), "final": new.get("final"),
                     "extracted": extracted, "finish_reason": new.get("finish_reason"), "status": new.get("status")}
        why = self.rules.reason(candidate, old.get("language"), old.get("domain"))
        return "accepted" if why is None else f"rejected: still fails {why}"


def repair_from_params(p: Any, teacher: Any, rules: ReadabilityRules) -> list[Stage]:
    """The recipes' ``--param repair / repair_model``: ``Rewrite`` before the filters (checked against
    the same ``rules`` and ``lang_threshold`` they apply), or nothing when repair is off."""
    if not p.repair:
        return []
    from curator.generation import backend_from_params

    model = backend_from_params(p.backend, p.repair_model, p.endpoints) if p.repair_model else teacher
    return [Rewrite(backend=model, rules=RuleCheck(rules, p.lang_threshold), max_tokens=max(p.max_tokens, 64),
                    seed=p.seed)]
