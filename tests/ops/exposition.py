"""Reading `/metrics` the way Prometheus does (prometheus-client's own parser)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """Every sample called `name` (e.g. `kyrios_commands_total`) with its labels."""
    found = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found.append((dict(sample.labels), float(sample.value)))
    return found


def value(text: str, name: str, **labels: str) -> float | None:
    """The sample `name` whose labels include `labels` (None when there is none)."""
    matching = [v for have, v in samples(text, name) if labels.items() <= have.items()]
    assert len(matching) <= 1, f"{name}{labels} is ambiguous: {matching}"
    return matching[0] if matching else None
