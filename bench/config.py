"""Sizes and timings of the two modes. Quick fits CI (< 3 minutes on 2 cores); full is what the
published figures use and follows the sizes of issue 7."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Mode:
    name: str
    customers: int  # portfolio dataset (aging, reads)
    open_invoices: int
    import_rows: int
    concurrency: int  # closed-loop clients for request/response scenarios
    warmup_s: float
    duration_s: float  # per repetition of a closed-loop scenario
    reps: int
    aging_reps: int
    import_reps: int
    # sweeper: past clock events, pending clocks, events due per due set, schedule rate (events/s)
    sweep_history: int
    sweep_pending: int
    sweep_due: int
    sweep_wait_s: float  # after the last due time, for firing and for escalations each
    cases: int  # open dispute cases for get/list cases
    # tracing settings at which the gateway path is also measured on the bare chain
    traced_baselines: tuple[str, ...]
    sweep_rate: float = 5_000.0  # issue 7's rate: the schedule due events follow

    def scaled(self, factor: float) -> Mode:
        """A smaller copy for smoke tests (`--scale`); never used for published figures."""
        return replace(
            self,
            name=f"{self.name}x{factor:g}",
            customers=max(10, int(self.customers * factor)),
            open_invoices=max(100, int(self.open_invoices * factor)),
            import_rows=max(100, int(self.import_rows * factor)),
            sweep_history=max(600, int(self.sweep_history * factor)),
            sweep_pending=max(400, int(self.sweep_pending * factor)),
            sweep_due=max(100, int(self.sweep_due * factor)),
            cases=max(200, int(self.cases * factor)),
            warmup_s=min(self.warmup_s, 0.3),
            duration_s=min(self.duration_s, 0.5),
            reps=1,
            aging_reps=1,
            import_reps=1,
        )


MODES = {
    "quick": Mode(
        "quick",
        customers=1_000,
        open_invoices=50_000,
        import_rows=5_000,
        concurrency=16,
        warmup_s=0.5,
        duration_s=1.0,
        reps=2,
        aging_reps=3,
        import_reps=2,
        sweep_history=30_000,
        sweep_pending=10_000,
        sweep_due=500,
        sweep_wait_s=30.0,
        cases=5_000,
        traced_baselines=("full",),
    ),
    "full": Mode(
        "full",
        customers=20_000,
        open_invoices=1_000_000,
        import_rows=100_000,
        concurrency=16,
        warmup_s=2.0,
        duration_s=5.0,
        reps=5,
        aging_reps=5,
        import_reps=3,
        sweep_history=5_000_000,
        sweep_pending=1_000_000,
        sweep_due=100_000,
        sweep_wait_s=300.0,
        traced_baselines=("off", "full"),
        cases=100_000,
    ),
}
