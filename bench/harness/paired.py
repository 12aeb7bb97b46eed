"""Paired comparison of two settings measured in the same interleaved repetitions: per repetition
the ratio of one to the other (drift of a shared machine between repetitions cancels out of it),
summarised as a 95 % confidence interval of the cost, so a verdict can say "met", "missed" or
"cannot tell at this noise" instead of trusting one median."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

# Two-sided 95 % quantiles of Student's t by degrees of freedom (n - 1); 1.96 beyond the table.
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}  # fmt: skip


def _t95(df: int) -> float:
    return next((t for d, t in sorted(_T95.items()) if df <= d), 1.96)


@dataclass(frozen=True)
class Cost:
    """How much of the control's throughput the treatment costs: 1 - treatment ÷ control for
    rates, 1 - control ÷ treatment for CPU per unit (what that CPU costs in throughput when the
    cores are the limit). `low`/`high` bound the 95 % interval; None with fewer than 2 pairs."""

    estimate: float
    low: float | None
    high: float | None
    pairs: int

    def verdict(self, limit: float) -> bool | None:
        """True: within `limit` (the whole interval); False: over it; None: cannot tell."""
        if self.low is None or self.high is None:
            return None
        if self.high <= limit:
            return True
        return False if self.low > limit else None

    def __str__(self) -> str:
        if self.low is None or self.high is None:
            return f"{self.estimate:.1%} (1 pair)"
        return f"{self.estimate:.1%} [95 % CI {self.low:.1%} … {self.high:.1%}, {self.pairs} pairs]"


def throughput_cost(kept: list[float | None], base: list[float | None]) -> Cost | None:
    """`kept[i] / base[i]` is the share of the base's throughput the treatment kept in
    repetition i (rates: treatment ÷ control; CPU per unit: control ÷ treatment). The interval is
    a t-interval of the mean log ratio, so a halving and a doubling weigh alike."""
    logs = [math.log(k / b) for k, b in zip(kept, base, strict=False) if k and b]
    if not logs:
        return None
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return Cost(1 - math.exp(mean), None, None, 1)
    half = _t95(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    # a higher kept share is a lower cost: the interval's ends swap
    return Cost(1 - math.exp(mean), 1 - math.exp(mean + half), 1 - math.exp(mean - half),
                len(logs))  # fmt: skip
