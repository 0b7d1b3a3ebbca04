"""deploy/lambda/template.yaml passes cfn-lint (with the SAM transform), a broken copy fails it, and
the function it deploys is the interactions handler with least privilege and seed 001's alarms."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

LAMBDA = Path(__file__).resolve().parents[2] / "deploy" / "lambda"
TEMPLATE = LAMBDA / "template.yaml"


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (`!Ref`, `!If`, …) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    assert isinstance(node, yaml.MappingNode)
    return {suffix: loader.construct_mapping(node, deep=True)}


CfnLoader.add_multi_constructor("!", _any_tag)


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("cfn-lint")
    assert tool is not None, "cfn-lint comes with the test extras"
    return subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=120, check=False)


def test_the_template_passes_cfn_lint() -> None:
    done = cfn_lint(TEMPLATE)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("Runtime: python3.13", "Runtime: python2.7", "E2533"),  # a runtime Lambda no longer runs
        (
            "ComparisonOperator: GreaterThanThreshold\n      TreatMissingData",
            "ComparisonOperator: Above\n      TreatMissingData",
            "E3030",
        ),  # not an allowed value
        ("!GetAtt InteractionsRole.Arn", "!GetAtt InteractionRole.Arn", "E1010"),  # no such resource
    ],
)
def test_a_broken_template_fails_cfn_lint(tmp_path: Path, old: str, new: str, rule: str) -> None:
    text = TEMPLATE.read_text()
    assert old in text
    broken = tmp_path / "template.yaml"
    broken.write_text(text.replace(old, new, 1))
    done = cfn_lint(broken)
    assert done.returncode != 0
    assert rule in done.stdout


def resources() -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)  # noqa: S506
    found: dict[str, Any] = template["Resources"]
    return found


def test_the_function_is_the_interactions_handler_in_production_mode() -> None:
    function = resources()["InteractionsFunction"]["Properties"]
    module, _, name = function["Handler"].rpartition(".")
    assert (module, name) == ("kyrios.web.lambda_handler", "handler")
    assert function["Environment"]["Variables"]["KYRIOS_MODE"] == "production"
    assert function["Events"]["Interactions"]["Properties"]["Path"] == "/interactions"


def test_the_role_may_only_write_its_own_logs() -> None:
    role = resources()["InteractionsRole"]["Properties"]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    assert statements == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Sub": "${InteractionsLogGroup.Arn}:*"},
        }
    ]


def test_errors_duration_and_throttles_raise_alarms() -> None:
    alarms = [r["Properties"] for r in resources().values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    metrics = {a.get("MetricName") for a in alarms} | {
        m["MetricStat"]["Metric"]["MetricName"]
        for a in alarms
        for m in a.get("Metrics", [])
        if "MetricStat" in m
    }
    assert {"Errors", "Duration", "Throttles"} <= metrics
    duration = next(a for a in alarms if a.get("MetricName") == "Duration")
    assert duration["Threshold"] == 5000  # seed 001: longer than 5 seconds
