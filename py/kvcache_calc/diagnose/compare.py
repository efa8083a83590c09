"""The observation next to the model: the loss split (traffic ceiling -> capacity -> routing -> observed),
notes on which scenario input looks wrong, and suggested changes (arrival rate, think time)."""

from __future__ import annotations

import math

from ..evaluate import predict_scenario
from ..notes import Note
from ..routing_comparison import model_comparison
from ..scenario import Scenario, parse_scenario, rates_per_class
from .observed import Observed, observe
from .scrape import read_scrape

TOLERANCE = 0.03  # token hit rate: closer than 3 points is "the model agrees"
THINK_BOUNDS_S = (0.1, 100_000.0)
THINK_STEPS = 22  # bisection steps on log(think time): each one predict call
MODEL_KEYS = ("token_hit_rate", "ceiling_token_hit_rate", "request_hit_rate", "derived_qps", "prompt_tokens_per_s",
              "cache_utilization", "running_requests", "mean_turns", "replicas", "routing")


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _model(s: Scenario) -> dict:
    p = predict_scenario(s)
    model = {k: p.get(k) for k in MODEL_KEYS}
    affinity = p["token_hit_rate"]
    if s.cluster.replicas > 1:
        rows = model_comparison(s)["rows"]
        affinity = next(r["token_hit_rate"] for r in rows if r["routing"] == "affinity")
    model["affinity_token_hit_rate"] = affinity
    model["arrival_rate"] = p["derived_qps"] / p["mean_turns"] if p["mean_turns"] else None
    model["prompt_tokens_per_s_per_replica"] = p["prompt_tokens_per_s"] / s.cluster.replicas
    return model


def loss_split(model: dict, observed: float) -> list[dict]:
    """Ceiling -> lost to capacity -> lost to routing -> not explained by the model -> observed; the losses
    subtract from the ceiling to the observed rate exactly."""
    ceiling, affinity, routed = model["ceiling_token_hit_rate"], model["affinity_token_hit_rate"], model["token_hit_rate"]
    return [{"stage": "traffic_allows", "token_hit_rate": ceiling},
            {"stage": "lost_to_capacity", "token_hit_rate": ceiling - affinity},
            {"stage": "lost_to_routing", "token_hit_rate": affinity - routed},
            {"stage": "unexplained", "token_hit_rate": routed - observed},
            {"stage": "observed", "token_hit_rate": observed}]


def _fit_think_time(s: Scenario, target: float) -> tuple[float, float] | None:
    """think_time_s whose model token hit rate meets `target` (bisection on its log; hit rate falls as
    think time grows), and that hit rate; None when the workload has classes or no think time reaches it."""
    if (s.raw.get("workload") or {}).get("classes"):
        return None
    rate = lambda t: predict_scenario(s.with_value("workload.think_time_s", t))["token_hit_rate"]
    lo, hi = (math.log(b) for b in THINK_BOUNDS_S)
    r_lo, r_hi = rate(math.exp(lo)), rate(math.exp(hi))
    if not r_hi - 1e-9 <= target <= r_lo + 1e-9:
        return None
    for _ in range(THINK_STEPS):
        mid = (lo + hi) / 2
        if rate(math.exp(mid)) > target:
            lo = mid
        else:
            hi = mid
    think = float(f"{math.exp((lo + hi) / 2):.3g}")
    return think, rate(think)


def _suggestions(s: Scenario, model: dict, obs: Observed, cluster_rps: float | None) -> list[dict]:
    out = []
    if cluster_rps is not None and model["mean_turns"] and not rates_per_class(s.raw):
        value = float(f"{cluster_rps / model['mean_turns']:.4g}")
        current = model["arrival_rate"]
        if value > 0 and current and abs(value - current) / current > 0.1:
            p = predict_scenario(s.with_value("workload.arrival_rate", value))
            out.append({"path": "workload.arrival_rate", "value": value, "current": current,
                        "token_hit_rate": p["token_hit_rate"],
                        "why_en": f"The observed {cluster_rps:.3g} requests/s over {model['mean_turns']:.3g} turns "
                                  f"per conversation means {value:.3g} conversations/s",
                        "why_zh": f"观测到每秒 {cluster_rps:.3g} 个请求，每个会话 {model['mean_turns']:.3g} 轮，"
                                  f"即每秒 {value:.3g} 个会话"})
    if abs(obs.token_hit_rate - model["token_hit_rate"]) > TOLERANCE:
        fit = _fit_think_time(s, obs.token_hit_rate)
        if fit is not None:
            think, rate = fit
            current = (s.raw.get("workload") or {}).get("think_time_s")
            out.append({"path": "workload.think_time_s", "value": think, "current": current,
                        "token_hit_rate": rate,
                        "why_en": f"With a mean think time of {think:.3g} s the model's token hit rate is the observed "
                                  f"{_pct(obs.token_hit_rate)}",
                        "why_zh": f"平均思考时间为 {think:.3g} 秒时，模型的 token 命中率等于观测值 {_pct(obs.token_hit_rate)}"})
    return out


def _notes(model: dict, obs: Observed, cluster_rps: float | None) -> list[Note]:
    notes = []
    if obs.window == "since_start":
        notes.append(Note("totals_since_start",
                          "One scrape: the hit rate is over every request since the server started (warm-up "
                          "included), and no rate can be computed; give an earlier scrape and the seconds between "
                          "them for rates over an interval.",
                          "只有一次抓取：命中率统计的是服务器启动以来的全部请求（含预热），无法计算速率；"
                          "请提供更早的一次抓取及两次之间的秒数，以得到区间内的速率。"))
    if obs.hit_rate_metric == "sglang:cache_hit_rate":
        notes.append(Note("sglang_gauge", "This SGLang exports no sglang:cached_tokens_total: the hit rate is its "
                          "sglang:cache_hit_rate gauge, a recent window, not the interval.",
                          "此 SGLang 未导出 sglang:cached_tokens_total：命中率取自 sglang:cache_hit_rate 仪表，"
                          "为近期窗口值，而非所选区间。"))
    if model["replicas"] > 1:
        notes.append(Note("one_replica_scraped",
                          f"The scrape is read as one replica's of {model['replicas']}: its request rate is "
                          f"multiplied by {model['replicas']} for the cluster.",
                          f"此抓取被视为 {model['replicas']} 个副本中的一个：其请求速率乘以 {model['replicas']} "
                          "作为整个集群的速率。"))
    o, m, ceiling = obs.token_hit_rate, model["token_hit_rate"], model["ceiling_token_hit_rate"]
    if o > ceiling + TOLERANCE:
        notes.append(Note("above_ceiling",
                          f"Observed {_pct(o)} is above the {_pct(ceiling)} the scenario's traffic allows even with "
                          "an infinite cache: conversations are longer (more turns) or share more prompt (system "
                          "prompt, documents) than the scenario says.",
                          f"观测值 {_pct(o)} 高于场景流量在无限缓存下允许的上限 {_pct(ceiling)}：实际会话更长（轮数更多），"
                          "或共享的提示（系统提示、文档）比场景中更多。"))
    elif o < m - TOLERANCE:
        notes.append(Note("below_model",
                          f"Observed {_pct(o)} is {(m - o) * 100:.1f} points below the model's {_pct(m)}: the cache "
                          "is under more pressure than the scenario says: the traffic is heavier (a higher arrival "
                          "rate) or users come back later (a longer think time) than in the scenario.",
                          f"观测值 {_pct(o)} 比模型的 {_pct(m)} 低 {(m - o) * 100:.1f} 个百分点：缓存压力比场景所述更大："
                          "实际流量更重（到达率更高），或用户回来得更晚（思考时间更长）。"))
    elif o > m + TOLERANCE:
        notes.append(Note("above_model",
                          f"Observed {_pct(o)} is {(o - m) * 100:.1f} points above the model's {_pct(m)}: the traffic "
                          "is lighter (a lower arrival rate) or users come back sooner (a shorter think time) than "
                          "in the scenario.",
                          f"观测值 {_pct(o)} 比模型的 {_pct(m)} 高 {(o - m) * 100:.1f} 个百分点：实际流量更轻（到达率更低），"
                          "或用户回来得更快（思考时间更短）。"))
    else:
        notes.append(Note("model_agrees", f"Observed {_pct(o)} is within {TOLERANCE * 100:.0f} points of the model's "
                          f"{_pct(m)}.", f"观测值 {_pct(o)} 与模型的 {_pct(m)} 相差不到 {TOLERANCE * 100:.0f} 个百分点。"))
    if cluster_rps is not None and model["derived_qps"]:
        ratio = cluster_rps / model["derived_qps"]
        if not 0.8 <= ratio <= 1.25:
            notes.append(Note("request_rate_differs",
                              f"The deployment serves {cluster_rps:.3g} requests/s, the scenario "
                              f"{model['derived_qps']:.3g}: its arrival rate is likely wrong.",
                              f"部署每秒处理 {cluster_rps:.3g} 个请求，场景为 {model['derived_qps']:.3g}：场景的到达率可能有误。"))
    return notes


def diagnose(scenario: dict, scrape: object, scrape_before: object = None, interval_s: object = None) -> dict:
    """The observed metrics of one or two scrapes next to the model's for the scenario, the loss split,
    notes and suggested scenario changes, as a JSON dict (ValueError naming the bad field)."""
    if not isinstance(scenario, dict):
        raise ValueError("scenario: expected a JSON object")
    after = read_scrape(scrape, "scrape")
    before = read_scrape(scrape_before, "scrape_before") if scrape_before is not None else None
    obs = observe(after, before, interval_s)
    s = parse_scenario(scenario)  # once: the model, the fit and the suggestions start from it
    model = _model(s)
    cluster_rps = obs.requests_per_s * model["replicas"] if obs.requests_per_s is not None else None
    return {"observed": {**obs.to_json(), "cluster_requests_per_s": cluster_rps},
            "model": model,
            "loss_split": loss_split(model, obs.token_hit_rate),
            "notes": [n.as_json() for n in _notes(model, obs, cluster_rps)],
            "suggestions": _suggestions(s, model, obs, cluster_rps)}
