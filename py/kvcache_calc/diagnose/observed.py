"""What a deployment's counters say: token hit rate, request and prompt-token rates, KV usage, running
requests, over the interval between two scrapes or since the server started (one scrape).

Metric names and types, from the engines' sources (docs/diagnose.md), at the releases docs/deploy.md uses:
- vLLM v0.13.0 (commit 72506c98349d6bcd32b4e33eec7b5513453c1502), vllm/v1/metrics/loggers.py: counters
  vllm:prefix_cache_queries (line 484) and vllm:prefix_cache_hits (line 495), exposed with the suffix
  _total; gauges vllm:kv_cache_usage_perc (461), vllm:num_requests_running (415) and
  vllm:num_requests_waiting (425); counters vllm:prompt_tokens (570) and vllm:request_success (589, one
  series per finished_reason). Older releases named the same counters and gauge
  vllm:gpu_prefix_cache_queries, vllm:gpu_prefix_cache_hits and vllm:gpu_cache_usage_perc (exported beside
  the new names, deprecated, in loggers.py at commit 005a810bc40faa25b8870fbc8559c3462581eee3: lines 225,
  236, 212).
- SGLang v0.5.6.post2 (commit 5c8bd8b51b53b9b39eb1edec582ee43b21002106),
  python/sglang/srt/metrics/collector.py: counters sglang:prompt_tokens_total (744),
  sglang:cached_tokens_total (807), sglang:num_requests_total (813); gauges sglang:num_running_reqs (233),
  sglang:token_usage (245), sglang:num_queue_reqs (275), sglang:cache_hit_rate (293).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .scrape import Scrape

# (key, candidate sample names, newest first, kind): counters are differenced, gauges read from the later scrape
NAMES: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {
    "vllm": {
        "queries": (("vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"), "counter"),
        "hits": (("vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"), "counter"),
        "requests": (("vllm:request_success_total",), "counter"),
        "prompt_tokens": (("vllm:prompt_tokens_total",), "counter"),
        "kv_cache_usage": (("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"), "mean"),
        "running": (("vllm:num_requests_running",), "sum"),
        "waiting": (("vllm:num_requests_waiting",), "sum"),
    },
    "sglang": {
        "queries": (("sglang:prompt_tokens_total",), "counter"),
        "hits": (("sglang:cached_tokens_total",), "counter"),
        "requests": (("sglang:num_requests_total",), "counter"),
        "prompt_tokens": (("sglang:prompt_tokens_total",), "counter"),
        "kv_cache_usage": (("sglang:token_usage",), "mean"),
        "running": (("sglang:num_running_reqs",), "sum"),
        "waiting": (("sglang:num_queue_reqs",), "sum"),
        "hit_rate_gauge": (("sglang:cache_hit_rate",), "mean"),
    },
}
MAX_INTERVAL_S = 1e7


@dataclass(frozen=True)
class Observed:
    """The deployment's own numbers; rates are None from one scrape (its counters hold no time)."""

    engine: str
    window: str  # "interval" (two scrapes) or "since_start" (one scrape: totals since the server started)
    interval_s: float | None
    token_hit_rate: float
    hit_rate_metric: str
    prefix_cache_queries: float | None
    prefix_cache_hits: float | None
    requests: float | None
    prompt_tokens: float | None
    requests_per_s: float | None
    prompt_tokens_per_s: float | None
    kv_cache_usage: float | None
    running_requests: float | None
    waiting_requests: float | None

    def to_json(self) -> dict:
        """The observation as a JSON dict."""
        return asdict(self)


def _name(scrape: Scrape, key: str) -> str | None:
    names, _ = NAMES[scrape.engine][key]
    return next((n for n in names if n in scrape.values), None)


def _gauge(scrape: Scrape, key: str) -> float | None:
    names, kind = NAMES[scrape.engine][key]
    return scrape.mean(*names) if kind == "mean" else scrape.get(*names)


def _interval(interval_s: object) -> float:
    if isinstance(interval_s, bool) or not isinstance(interval_s, (int, float)) or not math.isfinite(interval_s) \
            or not 0 < interval_s <= MAX_INTERVAL_S:
        raise ValueError(f"interval_s: {interval_s!r} is not allowed; the earlier scrape must be taken before the "
                         f"later one: expected the seconds between them, a number > 0 and <= {MAX_INTERVAL_S:g}")
    return float(interval_s)


def _counter(after: Scrape, before: Scrape | None, key: str) -> float | None:
    """A counter's total (one scrape) or its increase between two scrapes; a decrease is a restart."""
    name = _name(after, key)
    if name is None:
        return None
    if before is None:
        return after.values[name]
    if name not in before.values:
        raise ValueError(f"scrape_before: has no {name}, which the later scrape has; expected two scrapes of "
                         "the same server")
    delta = after.values[name] - before.values[name]
    if delta < 0:
        raise ValueError(f"scrape: counter {name} went down from {before.values[name]:g} (scrape_before) to "
                         f"{after.values[name]:g}: the server restarted between the scrapes; take both after "
                         "the restart")
    return delta


def _prefix_cache_missing(engine: str) -> ValueError:
    if engine == "vllm":
        return ValueError("scrape: no prefix-cache counters (vllm:prefix_cache_queries_total, or "
                          "vllm:gpu_prefix_cache_queries_total before vLLM 0.9): prefix caching is off "
                          "(--enable-prefix-caching) or the server is older than vLLM's V1 engine")
    return ValueError("scrape: no sglang:cached_tokens_total and no sglang:cache_hit_rate: expected SGLang "
                      "with its metrics on (--enable-metrics) and the radix cache on")


def observe(after: Scrape, before: Scrape | None = None, interval_s: object = None) -> Observed:
    """The observed numbers of one scrape (totals since start) or of two (increases over interval_s)."""
    if before is not None:
        if before.engine != after.engine:
            raise ValueError(f"scrape_before: is a {before.engine} scrape and scrape is {after.engine}; expected "
                             "two scrapes of the same server")
        interval = _interval(interval_s)
    elif interval_s is not None:
        raise ValueError("interval_s: given without scrape_before; it is the seconds between two scrapes")
    else:
        interval = None
    counters = {key: _counter(after, before, key) for key in ("queries", "hits", "requests", "prompt_tokens")}
    queries, hits = counters["queries"], counters["hits"]
    hit_metric = f"{_name(after, 'hits')} / {_name(after, 'queries')}"
    if queries is None or hits is None:
        gauge = _gauge(after, "hit_rate_gauge") if after.engine == "sglang" else None
        if gauge is None:
            raise _prefix_cache_missing(after.engine)
        if not 0 <= gauge <= 1:
            raise ValueError(f"scrape: sglang:cache_hit_rate is {gauge:g}; expected a fraction from 0 to 1")
        rate, hit_metric, queries, hits = gauge, "sglang:cache_hit_rate", None, None
    else:
        where = "between the two scrapes" if before is not None else "since the server started"
        if queries <= 0:
            if (counters["prompt_tokens"] or 0) > 0 and after.engine == "vllm":
                raise ValueError(f"scrape: {_name(after, 'queries')} did not grow while prompts were processed "
                                 f"{where}: prefix caching is off (--enable-prefix-caching)")
            raise ValueError(f"scrape: no prefix-cache queries {where}: no traffic to diagnose")
        if hits > queries:
            raise ValueError(f"scrape: {hits:g} prefix-cache hits exceed {queries:g} queries {where}")
        rate = hits / queries
    per_s = (lambda v: None if v is None or interval is None else v / interval)
    return Observed(
        engine=after.engine, window="interval" if before is not None else "since_start", interval_s=interval,
        token_hit_rate=rate, hit_rate_metric=hit_metric, prefix_cache_queries=queries, prefix_cache_hits=hits,
        requests=counters["requests"], prompt_tokens=counters["prompt_tokens"],
        requests_per_s=per_s(counters["requests"]), prompt_tokens_per_s=per_s(counters["prompt_tokens"]),
        kv_cache_usage=_gauge(after, "kv_cache_usage"), running_requests=_gauge(after, "running"),
        waiting_requests=_gauge(after, "waiting"))
