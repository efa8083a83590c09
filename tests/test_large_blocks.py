"""A block that is a large share of a prompt: the request hit rate outruns the token hit rate, and says why."""

import re
from pathlib import Path

import pytest

from kvcache_calc import api

I18N = Path(__file__).resolve().parents[1] / "js" / "i18n.js"


def _warning(result):
    return next((w for w in result["warnings"] if w["code"] == "large_blocks_request_hits"), None)


def test_4096_token_blocks_explain_a_request_hit_rate_three_times_the_token_hit_rate():
    result = api.predict({"cache": {"block_size": 4096}}, with_advice=False)
    assert result["request_hit_rate"] > result["token_hit_rate"] + 0.3
    warning = _warning(result)
    params = warning["params"]
    assert params["block_size"] == 4096
    assert params["mean_prompt_tokens"] == pytest.approx(result["mean_prompt_tokens"])
    assert params["block_share"] == pytest.approx(4096 / result["mean_prompt_tokens"])
    assert (params["token_hit_rate"], params["request_hit_rate"]) == (result["token_hit_rate"],
                                                                      result["request_hit_rate"])
    assert params["ceiling_token_hit_rate"] == result["ceiling_token_hit_rate"] < 0.5
    assert "4,096" in warning["message_en"] and "68%" in warning["message_en"] and "22%" in warning["message_en"]
    assert "4,096" in warning["message_zh"]


@pytest.mark.parametrize("scenario", [{}, {"cache": {"block_size": 1024}},
                                      {"cache": {"block_size": 4096}, "workload": {"user_tokens": 20_000}}])
def test_blocks_small_against_the_prompt_or_rates_that_agree_say_nothing(scenario):
    assert _warning(api.predict(scenario, with_advice=False)) is None


def test_the_page_has_the_new_codes_in_english_and_chinese():
    text = I18N.read_text(encoding="utf-8")
    english, chinese = text.split("\n  zh: {", 1)
    for code in ("large_blocks_request_hits", "conversations_reach_context_limit", "long_conversations_capped",
                 "model_fields_assumed", "first_prompt_exceeds_max_model_len"):
        pattern = re.compile(rf"^    warning_{code}: \"[^\"]+\",$", re.M)
        assert pattern.search(english) and pattern.search(chinese), code
