"""The CLI's side of `kvcache-calc diagnose`: the comparison as a table."""

from __future__ import annotations

STAGES = {"traffic_allows": "What the traffic allows (ceiling)", "lost_to_capacity": "  lost to capacity",
          "lost_to_routing": "  lost to routing", "unexplained": "  not explained by the model",
          "observed": "Observed"}


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.2f}%"


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:,.2f}"


def diagnose_table(out: dict) -> str:
    """Observed vs model, the loss split, notes and suggestions, as text."""
    o, m = out["observed"], out["model"]
    window = f"over {o['interval_s']:,.0f} s" if o["window"] == "interval" else "totals since the server started"
    rows = [("Token hit rate", _pct(o["token_hit_rate"]), _pct(m["token_hit_rate"])),
            ("Requests per second (cluster)", _num(o["cluster_requests_per_s"]), _num(m["derived_qps"])),
            ("Prompt tokens per second (scraped server)", _num(o["prompt_tokens_per_s"]), _num(m["prompt_tokens_per_s_per_replica"])),
            ("KV cache usage", _pct(o["kv_cache_usage"]), _pct(m["cache_utilization"])),
            ("Requests running (per replica)", _num(o["running_requests"]), _num(m["running_requests"]))]
    width = max(len(r[0]) for r in rows)
    lines = [f"{o['engine']} scrape, {window}; hit rate from {o['hit_rate_metric']}", "",
             f"{'':<{width}}  {'observed':>12}  {'model':>12}"]
    lines += [f"{label:<{width}}  {a:>12}  {b:>12}" for label, a, b in rows]
    lines += ["", "Where the hits go (token hit rate)"]
    lines += [f"  {STAGES[s['stage']]:<36} {s['token_hit_rate'] * 100:7.2f}" for s in out["loss_split"]]
    lines += [""] + [f"note: {n['message_en']}" for n in out["notes"]]
    for s in out["suggestions"]:
        lines.append(f"suggest: {s['path']} = {s['value']:g} (now {s['current']}): model {_pct(s['token_hit_rate'])}; "
                     f"{s['why_en']}")
    return "\n".join(lines)
