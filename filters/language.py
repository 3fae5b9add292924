"""Language consistency of chains of thought (DeepSeek-R1) and the language of a problem.

R1 rewards "words in the target language / all words of the CoT" but never says what a
word is. Here: after removing LaTeX, code, numbers and symbols, every CJK character is a
word for Chinese (kana too for Japanese, Hangul for Korean), and every alphabetic token of
two or more letters is a word of its script (Latin, Cyrillic, Greek, ...). One-letter
tokens are math variables, not words, and count for nobody. Latin-script languages share
one script, so an English CoT for a French problem counts as consistent: this measures
script mixing, which is what R1's readability problem was.

The ratio alone misses a whole English sentence in a long Chinese CoT (300 characters
against 8 words is still 0.97), so the stage also drops a sample whose longest run of
consecutive foreign words reaches ``max_foreign_run``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import polars as pl

from curator.core.stage import SampleFilter

# --- stripping what is not prose -------------------------------------------------------------
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.S)
_MATH = re.compile(
    r"\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)"
    r"|\\begin\{(\w+\*?)\}.*?\\end\{\1\}",
    re.S,
)
_COMMAND = re.compile(r"\\[A-Za-z]+\*?")

# --- scripts ------------------------------------------------------------------------------------
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_KANA = "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"
_HANGUL = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
_ALPHABET_RANGES = {
    "latin": "A-Za-z\u00c0-\u024f\u1e00-\u1eff",
    "cyrillic": "\u0400-\u04ff",
    "greek": "\u0370-\u03ff",
    "arabic": "\u0600-\u06ff",
    "hebrew": "\u0590-\u05ff",
    "devanagari": "\u0900-\u097f",
}
_TOKEN = re.compile(
    rf"(?P<han>[{_HAN}])|(?P<kana>[{_KANA}])|(?P<hangul>[{_HANGUL}])|"
    + "|".join(f"(?P<{name}>[{chars}]{{2,}})" for name, chars in _ALPHABET_RANGES.items())
)

#: language code -> the token classes that count as its words
_SCRIPT_OF: dict[str, frozenset[str]] = {
    "zh": frozenset({"han"}),
    "ja": frozenset({"han", "kana"}),
    "ko": frozenset({"hangul"}),
}
_ALPHABETS = {
    "latin": ("en fr de es it pt nl sv da no nb fi pl cs sk sl hr ro hu tr id ms vi ca et lv lt "
              "sq af sw tl cy ga is eu gl"),
    "cyrillic": "ru uk bg sr mk be kk",
    "greek": "el",
    "arabic": "ar fa ur",
    "hebrew": "he",
    "devanagari": "hi mr ne",
}
for _script, _codes in _ALPHABETS.items():
    for _code in _codes.split():
        _SCRIPT_OF[_code] = frozenset({_script})


def strip_non_prose(text: str) -> str:
    """Remove code, LaTeX (inline, display, environments, stray commands), after NFKC."""
    text = unicodedata.normalize("NFKC", text)
    text = _CODE.sub(" ", text)
    text = _MATH.sub(" ", text)
    return _COMMAND.sub(" ", text)


def script_tokens(text: str) -> list[str]:
    """The script class of every word of ``text``, in order (see the module docstring)."""
    return [m.lastgroup or "other" for m in _TOKEN.finditer(strip_non_prose(text))]


def _target_scripts(target: str) -> frozenset[str]:
    code = target.lower().replace("_", "-").split("-")[0]
    try:
        return _SCRIPT_OF[code]
    except KeyError:
        raise ValueError(f"language {target!r} has no script rule; known: {', '.join(sorted(_SCRIPT_OF))}. "
                         "Pass a fixed target=... to the stage or set `language` on the rows.") from None


def ratio_and_run(text: str, target: str) -> tuple[float, int]:
    """(target_language_ratio, longest_foreign_run) in one pass over the words."""
    scripts = _target_scripts(target)
    total = hits = best = run = 0
    for t in script_tokens(text):
        total += 1
        if t in scripts:
            hits += 1
            run = 0
        else:
            run += 1
            best = max(best, run)
    return (hits / total if total else 1.0), best


def target_language_ratio(text: str, target: str) -> float:
    """R1's language-consistency measure: target-language words / all words (1.0 without words).

    >>> target_language_ratio("设 $x^2 = 4$，所以 x = 2。", "zh")
    1.0
    >>> round(target_language_ratio("所以 answer is 2", "zh"), 2)
    0.5
    """
    tokens = script_tokens(text)
    if not tokens:
        return 1.0
    scripts = _target_scripts(target)
    return sum(t in scripts for t in tokens) / len(tokens)


def longest_foreign_run(text: str, target: str) -> int:
    """The longest run of consecutive words not in the target's script (a sentence switch).

    >>> longest_foreign_run("我们计算。Let me double check this again. 答案是 4。", "zh")
    6
    """
    scripts = _target_scripts(target)
    best = run = 0
    for t in script_tokens(text):
        run = 0 if t in scripts else run + 1
        best = max(best, run)
    return best


# --- the language of a problem -------------------------------------------------------------------
@lru_cache(maxsize=1)
def _langdetect_factory() -> Any:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()  # our own instance: seeding it leaves the library's global alone
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0
    return factory


def script_language(text: str) -> str | None:
    """The language that the script alone decides (zh, ja, ko, ru...), or None for Latin text."""
    counts: dict[str, int] = {}
    for t in script_tokens(text):
        counts[t] = counts.get(t, 0) + 1
    if not counts:
        return None
    cjk = counts.get("han", 0) + counts.get("kana", 0) + counts.get("hangul", 0)
    if cjk and cjk >= sum(counts.values()) - cjk:
        if counts.get("hangul", 0) * 2 >= cjk:
            return "ko"
        return "ja" if counts.get("kana", 0) * 10 >= cjk else "zh"
    top = max(counts, key=lambda k: counts[k])
    return {"greek": "el", "hebrew": "he"}.get(top)


#: languages lingua chooses among once the script rules have not decided (restricting it is what makes it fast)
LINGUA_LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "es", "it", "pt", "nl", "ru", "vi", "id", "tr", "pl")


@lru_cache(maxsize=4)
def _lingua_detector(codes: tuple[str, ...]) -> Any:
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder
    except ImportError as err:
        raise RuntimeError("detector='lingua' needs lingua-language-detector: pip install "
                           "'reasoning-curator[lingua]', or use detector='langdetect'") from err
    isos = [getattr(IsoCode639_1, c.upper()) for c in codes]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*isos).build()


def detect_language(text: str, default: str = "en", detector: str = "langdetect") -> str:
    """ISO 639-1 code of a problem: script rules for CJK etc., then a statistical detector.

    ``langdetect`` (default, seeded: deterministic) or ``lingua`` (restricted to
    ``LINGUA_LANGUAGES``; more accurate and 15x faster on short problems in
    ``benchmarks/language.py``, but a 100 MB optional install). langdetect alone calls
    mixed Chinese/English text English, hence the script rules first. Returns ``default``
    when there is nothing to decide on.

    >>> detect_language("求 $x^2-5x+6=0$ 的所有实数根 x。")
    'zh'
    >>> detect_language("Find all real roots of $x^2-5x+6=0$.")
    'en'
    """
    by_script = script_language(text)
    if by_script:
        return by_script
    prose = strip_non_prose(text)
    if not re.search(r"[^\W\d_]{2,}", prose):
        return default
    if detector == "lingua":
        found = _lingua_detector(LINGUA_LANGUAGES).detect_language_of(prose)
        return found.iso_code_639_1.name.lower() if found is not None else default
    if detector != "langdetect":
        raise ValueError(f"detector {detector!r}: use 'langdetect' or 'lingua'")
    from langdetect.lang_detect_exception import LangDetectException

    ld = _langdetect_factory().create()
    ld.append(prose)
    try:
        code = ld.detect()
    except LangDetectException:
        return default
    return code.split("-")[0]


# --- the stage ---------------------------------------------------------------------------------------
def language_column(df: pl.DataFrame, default: str = "en", detector: str = "langdetect") -> pl.Series:
    """``language`` for every row: the existing value, else detected from the problem."""
    given = df["language"] if "language" in df.columns else pl.Series([None] * df.height, dtype=pl.String)
    return pl.Series("language", [g if g else detect_language(p or "", default, detector)
                                  for g, p in zip(given, df["problem"], strict=True)], dtype=pl.String)


def consistency_reasons(texts: list[str | None], targets: list[str | None], threshold: float = 0.95,
                        max_foreign_run: int | None = 4) -> tuple[pl.Series, pl.Series]:
    """(lang_ratio, reason) per text. Null text -> null ratio, kept (other filters own that)."""
    ratios: list[float | None] = []
    reasons: list[str | None] = []
    for text, target in zip(texts, targets, strict=True):
        if not text or not target:
            ratios.append(None)
            reasons.append(None)
            continue
        ratio, run = ratio_and_run(text, target)
        ratios.append(ratio)
        if ratio < threshold:
            reasons.append("language mixing (ratio)")
        elif max_foreign_run is not None and run >= max_foreign_run:
            reasons.append("language mixing (foreign sentence)")
        else:
            reasons.append(None)
    return pl.Series("lang_ratio", ratios, dtype=pl.Float64), pl.Series("reason", reasons, dtype=pl.String)


@dataclass
class LanguageConsistency(SampleFilter):
    """Sets ``language`` on problems, ``lang_ratio`` on samples, drops samples that mix languages."""

    target: str | None = None  # None: each problem's own language
    threshold: float = 0.95  # R1 rewards the ratio; the cut-off is unpublished (unconfirmed), configurable
    max_foreign_run: int | None = 4  # this project (benchmarks/language.py): a foreign sentence the ratio misses
    field: str = "reasoning"  # falls back to the sample's `text` where reasoning is empty
    default_language: str = "en"  # when a problem has no letters to detect from
    detector: str = "langdetect"  # or "lingua" (extra `lingua`): better on Latin-script problems

    needs: ClassVar[tuple[str, ...]] = ("problem", "samples")
    adds: ClassVar[tuple[str, ...]] = ("language", "samples.lang_ratio")
    role: ClassVar[str] = "language"

    def _texts(self, flat: pl.DataFrame) -> list[str | None]:
        main = flat[self.field] if self.field in flat.columns else pl.Series([None] * flat.height, dtype=pl.String)
        text = flat["text"] if "text" in flat.columns else pl.Series([None] * flat.height, dtype=pl.String)
        return [m if m else t for m, t in zip(main, text, strict=True)]

    def _scores(self, flat: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
        targets = [self.target] * flat.height if self.target else flat["language"].to_list()
        return consistency_reasons(self._texts(flat), targets, self.threshold, self.max_foreign_run)

    def sample_columns(self, samples: pl.DataFrame) -> dict[str, pl.Series]:
        return {"lang_ratio": self._scores(samples)[0]}

    def sample_reasons(self, samples: pl.DataFrame) -> pl.Series:
        return self._scores(samples)[1]

    def prepare(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(language_column(df, self.default_language, self.detector))

    def score_samples(self, samples: pl.DataFrame) -> tuple[dict[str, pl.Series], pl.Series]:
        ratios, reasons = self._scores(samples)
        return {"lang_ratio": ratios}, reasons
