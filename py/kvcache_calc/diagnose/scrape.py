"""One Prometheus text scrape read into summed sample values (prometheus_client's text parser)."""

from __future__ import annotations

from dataclasses import dataclass, field

PIP_HINT = "pip install 'prometheus_client==0.26.0' (or pip install 'kvcache-calc[diagnose]')"
ENGINES = ("vllm", "sglang")
MAX_CHARS = 20_000_000


@dataclass(frozen=True)
class Scrape:
    """A scrape's samples, summed over their labels (engines, finish reasons), by sample name."""

    engine: str
    values: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def get(self, *names: str) -> float | None:
        """The first of `names` the scrape holds, summed over its label sets."""
        for name in names:
            if name in self.values:
                return self.values[name]
        return None

    def mean(self, *names: str) -> float | None:
        """The first of `names` the scrape holds, averaged over its label sets (a gauge per engine)."""
        for name in names:
            if name in self.values:
                return self.values[name] / self.counts[name]
        return None


def _parser():
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:  # a ValueError, so the CLI exits 2 with it and the worker shows it
        raise ValueError(f"prometheus_client: not installed; reading a /metrics scrape needs it: {PIP_HINT}") from None
    return text_string_to_metric_families


def read_scrape(text: object, field_name: str = "scrape") -> Scrape:
    """Parse Prometheus text; raise ValueError naming `field_name` if it is not a vLLM/SGLang scrape."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{field_name}: expected the text of a /metrics scrape (Prometheus text format), got "
                         f"{'nothing' if not text else type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ValueError(f"{field_name}: {len(text):,} characters is too long; expected at most {MAX_CHARS:,}")
    parse = _parser()
    values: dict[str, float] = {}
    counts: dict[str, int] = {}
    try:
        for family in parse(text):
            for sample in family.samples:
                values[sample.name] = values.get(sample.name, 0.0) + float(sample.value)
                counts[sample.name] = counts.get(sample.name, 0) + 1
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ValueError(f"{field_name}: not Prometheus text format ({exc})") from None
    if not values:
        raise ValueError(f"{field_name}: no samples found; expected the text of a /metrics scrape")
    engines = [e for e in ENGINES if any(name.startswith(e + ":") for name in values)]
    if not engines:
        example = ", ".join(sorted(values)[:3])
        raise ValueError(f"{field_name}: no vllm: or sglang: metrics (found {example}, ...); "
                         "expected a scrape of vLLM's or SGLang's /metrics")
    if len(engines) > 1:
        raise ValueError(f"{field_name}: holds both vllm: and sglang: metrics; expected one server's scrape")
    bad = [n for n in values if values[n] != values[n]]
    if bad:
        raise ValueError(f"{field_name}: {bad[0]} is NaN")
    return Scrape(engines[0], values, counts)
