"""In-process metrics, exposed in Prometheus text format at `/metrics`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class Metrics:
    """Counters and latency histograms per command."""

    commands: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    latency_buckets: dict[str, list[int]] = field(default_factory=dict)
    latency_sum: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    interactions_rejected: int = 0

    def observe_command(self, command: str, seconds: float, outcome: str) -> None:
        """Count one dispatched command and its latency."""
        self.commands[(command, outcome)] += 1
        buckets = self.latency_buckets.setdefault(command, [0] * (len(LATENCY_BUCKETS) + 1))
        for index, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                buckets[index] += 1
        buckets[-1] += 1
        self.latency_sum[command] += seconds

    def render(self) -> str:
        """Prometheus exposition text."""
        lines = [
            "# HELP kyrios_commands_total Commands dispatched, by command and outcome.",
            "# TYPE kyrios_commands_total counter",
        ]
        for (command, outcome), count in sorted(self.commands.items()):
            lines.append(f'kyrios_commands_total{{command="{command}",outcome="{outcome}"}} {count}')
        lines += [
            "# HELP kyrios_command_seconds Command latency.",
            "# TYPE kyrios_command_seconds histogram",
        ]
        for command, buckets in sorted(self.latency_buckets.items()):
            for bound, count in zip(LATENCY_BUCKETS, buckets, strict=False):
                lines.append(f'kyrios_command_seconds_bucket{{command="{command}",le="{bound}"}} {count}')
            lines.append(f'kyrios_command_seconds_bucket{{command="{command}",le="+Inf"}} {buckets[-1]}')
            lines.append(f'kyrios_command_seconds_sum{{command="{command}"}} {self.latency_sum[command]:.6f}')
            lines.append(f'kyrios_command_seconds_count{{command="{command}"}} {buckets[-1]}')
        lines += [
            "# HELP kyrios_interactions_rejected_total Interaction requests refused (bad signature or body).",
            "# TYPE kyrios_interactions_rejected_total counter",
            f"kyrios_interactions_rejected_total {self.interactions_rejected}",
        ]
        return "\n".join(lines) + "\n"
