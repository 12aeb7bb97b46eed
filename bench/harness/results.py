"""What a run produces: per scenario, per variant (the Settle stack and its baselines) the rate,
latency, CPU per unit of work per process role and peak memory per process."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

OK, MISSED, UNAVAILABLE, FAILED = "ok", "target missed", "not yet available", "failed"
INCONCLUSIVE = "inconclusive"  # the run's own noise is larger than the difference judged


@dataclass
class VariantResult:
    name: str  # "settle", "bare-grpc", "asyncpg", …
    description: str
    baseline: bool  # a bare-stack baseline (False: the Settle stack)
    unit: str  # what `rate` counts: "req", "report", "row"
    rate: float | None  # units per second, median over repetitions
    p50_ms: float | None  # per operation (one RPC / one report / one whole import)
    p99_ms: float | None
    ops: int
    errors: int
    first_error: str | None
    cpu_ms_per_unit: dict[str, float]  # role → CPU milliseconds (user + system) per unit
    cpu_system_share: dict[str, float]  # role → share of that CPU spent in the kernel
    peak_rss_mb: dict[str, float]  # process → VmHWM
    rep_rates: list[float] = field(default_factory=list)
    # per repetition, in order (so two variants' repetitions pair up): role → CPU ms per unit,
    # and the share of the machine's CPU time left idle while it ran
    rep_cpu_ms_per_unit: list[dict[str, float]] = field(default_factory=list)
    rep_machine_idle: list[float] = field(default_factory=list)
    profile: dict[str, dict] = field(default_factory=dict)  # process → profiling.summarise()

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.rate is not None


@dataclass
class ScenarioResult:
    name: str
    title: str
    target: str
    status: str = OK
    verdict: str = ""  # how the target was judged, with the figure
    dataset: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)  # concurrency, repetitions, tracing …
    variants: list[VariantResult] = field(default_factory=list)
    # Settle variant → baseline → Settle's rate / the baseline's rate (1.0 = as fast as bare)
    ratios: dict[str, dict[str, float]] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)  # e.g. responses equal to the baseline's
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def variant(self, name: str) -> VariantResult | None:
        return next((v for v in self.variants if v.name == name), None)

    def compute_ratios(self) -> None:
        for mine in self.variants:
            for other in self.variants:
                if not mine.baseline and other.baseline and mine.ok and other.ok and other.rate:
                    self.ratios.setdefault(mine.name, {})[other.name] = round(
                        mine.rate / other.rate, 3
                    )

    def judge(self, met: bool, verdict: str) -> None:
        self.verdict = verdict
        if self.status == OK and not met:
            self.status = MISSED

    def fail(self, message: str) -> None:
        self.status, self.verdict = FAILED, message

    def to_dict(self) -> dict:
        return asdict(self)
