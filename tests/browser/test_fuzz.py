"""Random form states and hostile query strings never break the page or inject anything."""

from __future__ import annotations

import random
from urllib.parse import quote

import pytest

FORM_STATES = 300
QUERY_STRINGS = 1000
PAGE_ROUTED_QUERIES = 1000  # share links opened by the page itself (popstate: parse, notices, calculate)
SETTLE_BUDGET_MS = 40_000  # a link's numbers (or the reason there are none) are on screen within this
FULL_ANALYSIS_EVERY = 30  # other states wait for the numbers only (analyze is the slow part)

PAYLOADS = [
    "<script>alert(1)</script>", "javascript:alert(1)", '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>", "${alert(1)}", "{{7*7}}", "</pre><script>alert(2)</script>",
    "NaN", "Infinity", "-Infinity", "1e999", "-0", "0x10", "1_000", " 1 ", "", "null", "undefined",
    "__proto__", "constructor", "%00", "%E0%A4%A", "😀", "中文", "1;2", "a=b", "&&&", "====",
]


def random_number(rng: random.Random, field: dict, inside: bool) -> str:
    low = field["minimum"] if field["minimum"] is not None else 0
    high = field["maximum"] if field["maximum"] is not None else 1e6
    if inside and rng.random() < 0.1:  # the edges are where slow or degenerate inputs live
        return str(int(high) if field["kind"] == "int" else high) if rng.random() < 0.7 else str(low)
    if inside:
        if field["kind"] == "int":
            top = int(min(high, low + rng.choice([4, 64, 4096, 10**6])))
            value = rng.randint(int(low) + (1 if field["exclusive_minimum"] else 0), max(int(low) + 1, top))
            return str(min(value, int(high)))
        span = min(high, low + rng.choice([1.0, 10.0, 1000.0, 1e5]))
        value = rng.uniform(low, span) or span
        return repr(round(value, rng.choice([0, 2, 6])) or span)
    return rng.choice([str(low - rng.choice([1, 0.5, 1000])), str(high * rng.choice([2, 10]) + 1),
                       "1.5" if field["kind"] == "int" else "-0.001", "abc", "-", "1e400", ""])


def random_form_state(rng: random.Random, schema: dict) -> dict[str, str]:
    state = {}
    for field in rng.sample(schema["fields"], rng.randint(1, 4)):
        if field["kind"] == "enum":
            options = list(field["choices"]) + ([""] if field["optional"] else [])
            state[field["path"]] = rng.choice(options)
        elif field["kind"] == "text":  # a checkpoint id: well-formed or hostile
            state[field["path"]] = rng.choice(["my-org/my-model", "/models/llama", "a b", "$(id)", "-x"] + PAYLOADS)
        else:
            state[field["path"]] = random_number(rng, field, inside=rng.random() < 0.7)
    return state


def random_tier(rng: random.Random) -> str:
    """A `tier=` value: mostly well-formed, sometimes broken in one part."""
    name = rng.choice(["cpu", "ssd", "dram", "nvme", "x1", "CPU", "", "a" * 30, "<b>", "__proto__", "cpu:cpu"])
    size = rng.choice([f"{rng.uniform(0.001, 2000):.3f}gb", f"{rng.randint(1, 10**7)}tok", "0gb", "-5gb", "1.5tok",
                       "gb", "12", "1e999gb", "5GB", "7Tok"])
    parts = [name, size]
    if rng.random() < 0.5:
        parts.append(rng.choice([f"{rng.uniform(0.1, 100):.2f}", "0", "-1", "abc", ""]))
    if rng.random() < 0.05:
        parts.append("9")
    return ":".join(parts)


def random_query(rng: random.Random, schema: dict) -> str:
    tier_policy = schema["tiers"]["policy"]
    keys = [f["url_key"] for f in schema["fields"]] + ["lang", "bogus", "__proto__", "constructor", "", "x" * 300]
    keys += ["tier"] * 6 + [tier_policy["url_key"]] * 2
    parts = []
    for _ in range(rng.randint(0, 8)):
        key = rng.choice(keys)
        field = next((f for f in schema["fields"] if f["url_key"] == key), None)
        if key == tier_policy["url_key"]:
            field = tier_policy
        roll = rng.random()
        if key == "tier" and roll >= 0.2:
            value = random_tier(rng)
        elif roll < 0.4:
            value = rng.choice(PAYLOADS)
        elif field is not None and field["kind"] == "enum":
            value = rng.choice(field["choices"] + ["custom", "CUSTOM", "h100"])
        elif field is not None:
            value = random_number(rng, field, inside=roll < 0.7)
        else:
            value = str(rng.random())
        encoded = quote(value, safe="") if rng.random() < 0.7 else value
        parts.append(f"{quote(key, safe='') if rng.random() < 0.8 else key}={encoded}")
    if rng.random() < 0.05:  # a pinned baseline: itself a link, hostile or not
        inner = random_query(rng, schema).lstrip("?&").split("#")[0] if rng.random() < 0.8 else rng.choice(PAYLOADS)
        parts.append(f"base={quote(inner, safe='')}")
    query = "&".join(parts)
    return rng.choice(["?", "", "??", "?&"]) + query + rng.choice(["", "#frag", "&", "%"])


@pytest.fixture(scope="module")
def page(booted):
    return booted.page


@pytest.fixture(scope="module")
def schema(page):
    """The schema the page itself uses (schema.json)."""
    return page.evaluate("window.kvcacheCalc.schema")


def element_census(page) -> dict:
    return page.evaluate("""() => ({
        scripts: document.querySelectorAll('script').length,
        images: document.querySelectorAll('img, svg, iframe, object, embed').length,
    })""")


def test_random_form_states_never_show_nan(booted, page, schema):
    rng = random.Random(20260101)
    states = [random_form_state(rng, schema) for _ in range(FORM_STATES)]
    before = element_census(page)
    report = page.evaluate("""async ([states, fullEvery]) => {
        const form = document.getElementById('scenario-form');
        const settled = (flag) => new Promise((resolve) => {
            const check = () => (document.body.dataset[flag] === 'false' ? resolve() : setTimeout(check, 2));
            check();
        });
        const bad = [];
        let errors = 0;
        for (const [index, state] of states.entries()) {
            const previous = {};
            for (const [name, value] of Object.entries(state)) {
                const input = form.elements.namedItem(name);
                previous[name] = input.value;
                input.value = value;
                input.dispatchEvent(new Event('input', { bubbles: true }));
            }
            form.requestSubmit();
            await settled(index % fullEvery === fullEvery - 1 ? 'busy' : 'numbersBusy');
            // an error may quote what was typed ("Infinity" as a release): only computed text must be clean
            let text = document.body.innerText;
            for (const alert of document.querySelectorAll('[role=alert]')) text = text.replace(alert.innerText, '');
            const values = [...document.querySelectorAll('[data-value]')].map((el) => el.dataset.value);
            if (/NaN|Infinity|undefined/.test(text) || values.some((v) => v !== '' && !Number.isFinite(Number(v)))) {
                bad.push({ index, state, match: (text.match(/.{0,60}(NaN|Infinity|undefined).{0,60}/) || [''])[0] });
            }
            if (document.getElementById('form-error').textContent) errors++;
            for (const [name, value] of Object.entries(previous)) form.elements.namedItem(name).value = value;
        }
        form.requestSubmit();
        await settled('busy');
        return { bad, errors };
    }""", [states, FULL_ANALYSIS_EVERY])
    assert report["bad"] == []
    assert 0 < report["errors"] < FORM_STATES  # both valid and invalid states were exercised
    assert element_census(page) == before
    assert "stale" not in page.get_attribute("#results-panel", "class")
    assert booted.problems() == []


def test_fuzzed_query_strings_parse_safely(booted, page, schema):
    rng = random.Random(7)
    queries = [random_query(rng, schema) for _ in range(QUERY_STRINGS)]
    queries[:len(PAYLOADS)] = [f"?rate={quote(p)}&{quote(p)}={quote(p)}&preset={quote(p)}" for p in PAYLOADS]
    before = element_census(page)
    report = page.evaluate("""async (queries) => {
        const { parse, encode } = await import('/js/url.js');
        const schema = window.kvcacheCalc.schema;
        const problems = [];
        const valid = (field, value) => {
            if (field.kind === 'enum') return field.choices.includes(value);
            if (field.kind === 'text') return typeof value === 'string' && value.length <= field.maximum
                && new RegExp(field.pattern).test(value);
            if (typeof value !== 'number' || !Number.isFinite(value)) return false;
            if (field.kind === 'int' && !Number.isInteger(value)) return false;
            if (field.minimum !== null && (field.exclusive_minimum ? value <= field.minimum : value < field.minimum)) return false;
            return field.maximum === null || value <= field.maximum;
        };
        for (const query of queries) {
            try {
                const { scenario, notices } = parse(query, schema);
                for (const field of schema.fields) {
                    const [section, key] = field.path.split('.');
                    const value = scenario[section][key];
                    if (value !== undefined && !valid(field, value)) problems.push({ query, path: field.path, value });
                }
                const tierFields = Object.fromEntries(schema.tiers.fields.map((f) => [f.path.split('.')[1], f]));
                const pattern = new RegExp(schema.tiers.name_pattern);
                if (scenario.tiers !== undefined) {
                    if (!Array.isArray(scenario.tiers) || !scenario.tiers.length || scenario.tiers.length > schema.tiers.max
                        || !valid(schema.tiers.policy, scenario.tiers_policy)) problems.push({ query, tiers: scenario.tiers });
                    for (const tier of scenario.tiers || []) {
                        const sizes = ['capacity_gb', 'capacity_tokens'].filter((k) => k in tier);
                        const ok = pattern.test(tier.name) && sizes.length === 1
                            && Object.entries(tier).every(([k, v]) => k === 'name' || (tierFields[k] && valid(tierFields[k], v)));
                        if (!ok) problems.push({ query, tier });
                    }
                } else if (scenario.tiers_policy !== undefined) {
                    problems.push({ query, policyWithoutTiers: scenario.tiers_policy });
                }
                const again = parse(encode(scenario, schema), schema);
                if (JSON.stringify(again.scenario) !== JSON.stringify(scenario) || again.notices.length) {
                    problems.push({ query, roundTrip: true });
                }
                if (!Array.isArray(notices)) problems.push({ query, notices: true });
                if (Object.prototype.polluted !== undefined || {}.rate !== undefined) problems.push({ query, pollution: true });
            } catch (error) {
                problems.push({ query, error: String(error) });
            }
        }
        return problems;
    }""", queries)
    assert report == []
    assert element_census(page) == before
    assert booted.problems() == []


def test_hostile_links_render_notices_as_text(booted, page, schema):
    """1,000 links through the page's own popstate path (parse, notices, calculate): nothing is injected, nothing
    computed shows NaN, every link settles (numbers or the reason there are none) within a budget, and the page
    is never left busy."""
    rng = random.Random(99)
    queries = [f"?{quote(p, safe='')}=1&rate={quote(p, safe='')}" for p in PAYLOADS[:12]]
    queries += [random_query(rng, schema) for _ in range(PAGE_ROUTED_QUERIES - len(queries))]
    before = element_census(page)
    report = page.evaluate("""async ([queries, budget, fullEvery]) => {
        const settled = (flag) => new Promise((resolve) => {
            const started = performance.now();
            const check = () => {
                if (document.body.dataset[flag] === 'false') resolve(true);
                else if (performance.now() - started > budget) resolve(false);
                else setTimeout(check, 2);
            };
            setTimeout(check, 0);
        });
        const notices = [];
        const stuck = [];
        const bad = [];
        for (const [index, query] of queries.entries()) {
            history.pushState(null, '', query.startsWith('?') ? query : '?' + query);
            window.dispatchEvent(new PopStateEvent('popstate'));
            if (!(await settled(index % fullEvery === fullEvery - 1 ? 'busy' : 'numbersBusy'))) stuck.push(query);
            notices.push(...[...document.querySelectorAll('#notices li')].map((li) => li.textContent));
            let text = document.body.innerText;
            for (const node of document.querySelectorAll('[role=alert], #notices')) text = text.replace(node.innerText, '');
            const values = [...document.querySelectorAll('[data-value]')].map((el) => el.dataset.value);
            if (/NaN|Infinity|undefined/.test(text) || values.some((v) => v !== '' && !Number.isFinite(Number(v)))) {
                bad.push({ query, match: (text.match(/.{0,60}(NaN|Infinity|undefined).{0,60}/) || [''])[0] });
            }
        }
        history.pushState(null, '', '?');
        window.dispatchEvent(new PopStateEvent('popstate'));
        if (!(await settled('busy'))) stuck.push('?');
        return { notices, stuck, bad };
    }""", [queries, SETTLE_BUDGET_MS, FULL_ANALYSIS_EVERY])
    assert report["stuck"] == []
    assert report["bad"] == []
    assert any("<script>alert(1)</script>" in text for text in report["notices"])  # shown literally, as text
    assert element_census(page) == before
    text = page.inner_text("body")
    assert "NaN" not in text and "undefined" not in text
    assert "stale" not in page.get_attribute("#results-panel", "class")
    assert booted.problems() == []
