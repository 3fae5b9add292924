"""Several models in one recipe: ``LABEL=BACKEND[:MODEL][@T<temperature>][|ENDPOINTS]`` specs.

A boundary analysis compares models on the same problems, so a recipe takes a list of them
in one ``--param``; each gets a label (the name in the report), a backend kind and model as
``backend_from_params`` takes them, a sampling temperature and, for servers, its endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass

from curator.analysis.outcomes import model_slug


@dataclass(frozen=True)
class ModelSpec:
    """One model of a comparison."""

    label: str
    backend: str
    model: str
    temperature: float
    endpoints: str

    @property
    def slug(self) -> str:
        return model_slug(self.label)


def parse_model_spec(spec: str, *, default_temperature: float = 1.0, default_endpoints: str = "") -> ModelSpec:
    """Parse ``LABEL=BACKEND[:MODEL][@T<temperature>][|ENDPOINTS]``.

    >>> parse_model_spec("base=embedded@T0.3")
    ModelSpec(label='base', backend='embedded', model='', temperature=0.3, endpoints='')
    >>> parse_model_spec("rl=openai:Qwen/Qwen2.5-7B@T1.0|http://127.0.0.1:8001/v1").model
    'Qwen/Qwen2.5-7B'
    """
    text = spec.strip()
    if "=" not in text:
        raise ValueError(f"model spec {spec!r} needs a label: LABEL=BACKEND[:MODEL][@T<temperature>][|ENDPOINTS], "
                         "e.g. base=embedded@T0.3")
    label, rest = (part.strip() for part in text.split("=", 1))
    endpoints = default_endpoints
    if "|" in rest:
        rest, endpoints = (part.strip() for part in rest.split("|", 1))
    temperature = default_temperature
    if "@T" in rest:
        rest, temp = rest.rsplit("@T", 1)
        try:
            temperature = float(temp)
        except ValueError:
            raise ValueError(f"model spec {spec!r}: temperature {temp!r} is not a number (write @T0.7)") from None
    backend, _, model = rest.partition(":")
    if not label or not backend:
        raise ValueError(f"model spec {spec!r} needs a label and a backend, e.g. base=embedded@T0.3")
    return ModelSpec(label, backend.strip(), model.strip(), temperature, endpoints)


def parse_models(specs: tuple[str, ...] | list[str], *, default_temperature: float = 1.0,
                 default_endpoints: str = "") -> list[ModelSpec]:
    """Every spec, checked for distinct labels (they name columns and report lines)."""
    models = [parse_model_spec(s, default_temperature=default_temperature, default_endpoints=default_endpoints)
              for s in specs if s.strip()]
    if not models:
        raise ValueError("no models to compare: --param models=base=embedded@T0.3,tuned=embedded@T1.0")
    slugs = [m.slug for m in models]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"model labels must be distinct (after lower-casing): {[m.label for m in models]}")
    return models
