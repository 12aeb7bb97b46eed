"""The tracing-cost judgement's arithmetic (bench/harness/paired.py): paired ratios, their 95 %
interval, and a verdict only when the whole interval is on one side of the target."""

from __future__ import annotations

import pytest

from bench.harness.paired import throughput_cost


def test_steady_pairs_give_a_narrow_interval_around_the_cost():
    # the machine drifts 2x between repetitions; each pair keeps 95 % of its base
    cost = throughput_cost([95.0, 190.0, 142.5, 47.5], [100.0, 200.0, 150.0, 50.0])
    assert cost is not None and cost.pairs == 4
    assert cost.estimate == pytest.approx(0.05)
    assert cost.low == pytest.approx(0.05) and cost.high == pytest.approx(0.05)
    assert cost.verdict(0.10) is True


def test_noisy_pairs_straddling_the_target_cannot_be_judged():
    cost = throughput_cost([0.80, 0.99, 0.90, 0.95, 0.85], [1.0] * 5)
    assert cost is not None and cost.low is not None and cost.high is not None
    assert cost.low < 0.10 < cost.high
    assert cost.verdict(0.10) is None


def test_an_interval_wholly_over_the_target_is_missed():
    cost = throughput_cost([0.70, 0.72, 0.69, 0.71], [1.0] * 4)
    assert cost is not None and cost.verdict(0.10) is False


def test_cpu_per_unit_pairs_are_given_control_first():
    # 12.5 % more CPU per case keeps 1 / 1.125 of the throughput: a cost of 11.1 %
    cost = throughput_cost([8.0, 8.0, 8.0], [9.0, 9.0, 9.0])
    assert cost is not None and cost.estimate == pytest.approx(1 / 9)
    assert cost.verdict(0.10) is False


def test_one_pair_has_no_interval_and_no_verdict():
    cost = throughput_cost([0.5], [1.0])
    assert cost is not None and cost.low is None and cost.verdict(0.10) is None


def test_missing_repetitions_are_left_out():
    assert throughput_cost([None, 0.0], [1.0, 1.0]) is None
