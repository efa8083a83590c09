"""The original tool's Python API keeps working, backed by the new model."""

import pytest

from kvcache_calculator import (ConversationPattern, KVCacheCalculator, KVCacheDtype, ModelConfig, ModelDtype,
                                SystemConfig)


def seed_example():
    model_config = ModelConfig(num_layers=32, num_attention_heads=32, num_kv_heads=32, head_dim=128,
                               model_dtype=ModelDtype.FP16, kvcache_dtype=KVCacheDtype.FP16, model_size_gb=14.0)
    system_config = SystemConfig(available_memory_gb=80.0)
    conv_pattern = ConversationPattern(avg_conversation_length=5.0, conversation_arrival_rate=2.0,
                                       within_conversation_interval=30.0, avg_sequence_length=100)
    return model_config, system_config, conv_pattern


def test_readme_example_runs_unchanged(capsys):
    model_config, system_config, conv_pattern = seed_example()
    calculator = KVCacheCalculator()
    metrics = calculator.calculate_detailed_metrics(model_config, system_config, conv_pattern)
    print(f"KVCache命中率: {metrics['hit_rate']:.1%}")
    print(f"缓存利用率: {metrics['cache_utilization']:.1%}")
    print(f"预估延迟减少: {metrics['estimated_latency_reduction']:.1%}")
    out = capsys.readouterr().out
    assert "KVCache命中率" in out and "nan" not in out.lower()
    assert 0.0 < metrics["hit_rate"] < metrics["seed_formula_hit_rate"] < 1.0


def test_memory_accounting_is_the_seeds():
    model_config, system_config, _ = seed_example()
    calc = KVCacheCalculator()
    assert calc.calculate_kvcache_memory_per_token(model_config) == 2 * 32 * 32 * 128 * 2
    expected = int((80.0 - 14.0 * 1.2) * 1024**3 / (2 * 32 * 32 * 128 * 2))
    assert calc.calculate_max_cached_tokens(model_config, system_config) == expected


def test_hit_rate_is_our_request_hit_rate():
    from kvcache_calc.api import predict
    from kvcache_calculator import seed_scenario
    args = seed_example()
    metrics = KVCacheCalculator().calculate_conversation_hit_rate(*args)
    assert metrics["hit_rate"] == pytest.approx(predict(seed_scenario(*args))["request_hit_rate"])


def test_model_that_does_not_fit_returns_zero_and_says_so():
    model_config, _, conv = seed_example()
    metrics = KVCacheCalculator().calculate_detailed_metrics(model_config, SystemConfig(10.0), conv)
    assert metrics["hit_rate"] == 0.0 and metrics["fits"] is False


def test_optimize_memory_reaches_the_target():
    model_config, system_config, conv = seed_example()
    calc = KVCacheCalculator()
    plan = calc.optimize_memory_allocation(model_config, SystemConfig(24.0), conv, target_hit_rate=0.6)
    assert plan["achievable"] and plan["additional_memory_needed_gb"] > 0
    reached = calc.calculate_conversation_hit_rate(model_config, SystemConfig(plan["recommended_memory_gb"]), conv)
    assert reached["hit_rate"] >= 0.6 - 1e-3
    unreachable = calc.optimize_memory_allocation(model_config, SystemConfig(24.0), conv, target_hit_rate=0.95)
    assert unreachable["achievable"] is False


@pytest.mark.parametrize("make, message", [
    (lambda m, s, c: (m, s, ConversationPattern(-1, 2.0, 30.0, 100)),
     "ConversationPattern.avg_conversation_length: -1 is not allowed; expected a number >= 1"),
    (lambda m, s, c: (m, s, ConversationPattern(5.0, 2.0, -3, 100)),
     "ConversationPattern.within_conversation_interval: -3 is not allowed"),
    (lambda m, s, c: (m, SystemConfig(available_memory_gb=-80.0), c),
     "SystemConfig.available_memory_gb: -80.0 is not allowed; expected a number > 0"),
    (lambda m, s, c: (ModelConfig(0, 32, 32, 128, ModelDtype.FP16, KVCacheDtype.FP16, 14.0), s, c),
     "ModelConfig.num_layers: 0 is not allowed; expected an integer >= 1"),
])
def test_bad_input_names_the_seeds_own_field_and_value(make, message):
    # issue 16: the seed's users were told about workload.turns_mean, a name they never saw
    args = make(*seed_example())
    calc = KVCacheCalculator()
    for call in (calc.calculate_detailed_metrics, calc.calculate_conversation_hit_rate,
                 calc.optimize_memory_allocation):
        with pytest.raises(ValueError) as e:
            call(*args)
        assert str(e.value).startswith(message)
        assert "workload." not in str(e.value) and "model." not in str(e.value)


def test_model_only_calls_check_the_model_too():
    bad = ModelConfig(32, 32, 32, 0, ModelDtype.FP16, KVCacheDtype.FP16, 14.0)
    with pytest.raises(ValueError, match=r"^ModelConfig\.head_dim: 0 is not allowed"):
        KVCacheCalculator().calculate_kvcache_memory_per_token(bad)
    with pytest.raises(ValueError, match=r"^ModelConfig\.head_dim: 0 is not allowed"):
        KVCacheCalculator().calculate_max_cached_tokens(bad, SystemConfig(80.0))
