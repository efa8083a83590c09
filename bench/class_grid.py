"""Random multi-class scenarios for the accuracy grid (bench/traffic_accuracy.py grid).

Classes of chat, agent loops, document questions and one-shot requests; several system prompts
or tenant catalogs, document catalogs with Zipf popularity; heavy-tailed tokens and think times;
every follow-up kind; both admission rules; caches from a few percent to more than the working set.
"""

from __future__ import annotations

import math
import random


def _tokens(rng: random.Random, median: float) -> dict | float:
    kind = rng.choice(["fixed", "lognormal", "lognormal", "gamma", "exponential", "empirical"])
    if kind == "fixed":
        return round(median)
    if kind == "lognormal":
        return {"dist": "lognormal", "median": median, "sigma": rng.choice([0.5, 1.0, 1.5])}
    if kind == "gamma":
        return {"dist": "gamma", "mean": median * 1.3, "shape": rng.choice([0.5, 1.0, 3.0])}
    if kind == "exponential":
        return {"dist": "exponential", "mean": median * 1.4}
    qs = sorted(round(median * math.exp(rng.gauss(0, 1.0))) for _ in range(9))
    return {"dist": "empirical", "quantiles": [max(1, q) for q in qs]}


def _think(rng: random.Random, mean: float) -> dict | float:
    kind = rng.choice(["exponential", "exponential", "lognormal", "gamma", "fixed", "mixture"])
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind == "lognormal":
        return {"dist": "lognormal", "median": mean / 2, "sigma": rng.choice([0.8, 1.2, 1.6])}
    if kind == "gamma":
        return {"dist": "gamma", "mean": mean, "shape": rng.choice([0.4, 2.0])}
    if kind == "fixed":
        return mean
    return {"dist": "mixture", "components": [{"weight": 0.7, "dist": "exponential", "mean": mean / 3},
                                              {"weight": 0.3, "dist": "exponential", "mean": mean * 3}]}


def _turns(rng: random.Random, mean: float) -> dict | int:
    kind = rng.choice(["geometric", "geometric", "fixed", "mixture", "empirical"])
    if kind == "geometric":
        return {"dist": "geometric", "mean": mean}
    if kind == "fixed":
        return max(1, round(mean))
    if kind == "mixture":
        return {"dist": "mixture", "components": [{"weight": 0.6, "dist": "fixed", "value": 1},
                                                  {"weight": 0.4, "dist": "geometric", "mean": max(1.0, mean * 2)}]}
    top = max(2, round(mean * 2))
    return {"dist": "empirical", "values": list(range(1, top + 1)),
            "weights": [rng.random() + 0.2 for _ in range(top)]}


def random_class(rng: random.Random, name: str, prefixes: list[str]) -> dict:
    style = rng.choice(["chat", "chat", "agent", "docqa", "oneshot"])
    if style == "chat":
        c = {"turns": _turns(rng, rng.choice([2, 4, 8])), "think_time_s": _think(rng, rng.choice([5, 20, 60])),
             "user_tokens": _tokens(rng, rng.choice([30, 100, 300])),
             "output_tokens": _tokens(rng, rng.choice([50, 200, 500])),
             "follow_ups": rng.choice([{"continue": 1}, {"continue": 0.8, "branch": 0.2}, {"continue": 0.7, "resend": 0.3}])}
    elif style == "agent":
        c = {"turns": _turns(rng, rng.choice([6, 15])), "think_time_s": _think(rng, rng.choice([1, 3])),
             "context_tokens": _tokens(rng, rng.choice([200, 1000])),
             "user_tokens": _tokens(rng, rng.choice([100, 400])),
             "output_tokens": _tokens(rng, rng.choice([50, 150]))}
    elif style == "docqa":
        c = {"turns": _turns(rng, rng.choice([3, 6])), "think_time_s": _think(rng, rng.choice([10, 40])),
             "context_tokens": _tokens(rng, rng.choice([1000, 4000])),
             "user_tokens": _tokens(rng, rng.choice([30, 80])),
             "output_tokens": _tokens(rng, rng.choice([100, 300])), "follow_ups": {"branch": 1}}
    else:
        c = {"turns": 1, "user_tokens": _tokens(rng, rng.choice([200, 1500])),
             "output_tokens": _tokens(rng, rng.choice([50, 300]))}
    path = []
    if prefixes and rng.random() < 0.85:
        path.append(rng.choice(prefixes[:max(1, len(prefixes) - 1)]))
        if len(prefixes) > 1 and rng.random() < 0.4 and prefixes[-1] not in path:
            path.append(prefixes[-1])
    return {"name": name, "share": rng.choice([1, 2, 3]), "prefix": path, **c}


def random_scenario(rng: random.Random) -> dict:
    prefixes = []
    for i in range(rng.choice([0, 1, 1, 2, 3])):
        if rng.random() < 0.3:
            prefixes.append({"name": f"tenants{i}", "tokens": rng.choice([300, 1000]), "count": rng.choice([5, 50]),
                             "zipf": rng.choice([0.8, 1.2])})
        else:
            prefixes.append({"name": f"sys{i}", "tokens": rng.choice([200, 800, 2500])})
    if rng.random() < 0.5:
        prefixes.append({"name": "docs", "tokens": rng.choice([500, 2000]), "count": rng.choice([20, 500, 20000]),
                         "zipf": rng.choice([0.6, 1.0, 1.4])})
    names = [p["name"] for p in prefixes]
    classes = [random_class(rng, f"c{i}", names) for i in range(rng.choice([1, 2, 3, 4]))]
    used = {g for c in classes for g in c["prefix"]}
    return {"workload": {"arrival_rate": rng.choice([0.2, 0.5, 1.0, 2.0]),
                         "prefixes": [p for p in prefixes if p["name"] in used], "classes": classes},
            "cache": {"block_size": rng.choice([16, 16, 32, 64]),
                      "admission": rng.choice(["engine", "engine", "trace_replay"])}}
