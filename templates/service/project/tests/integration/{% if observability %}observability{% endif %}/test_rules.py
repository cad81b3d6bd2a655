"""The service's own alert rules (rules.yml, the same in every combination): promtool accepts
them, their unit tests pass, and every alert is complete (severity, summary, a `for`, a link to
the runbook) and tested both firing and resolved. The capabilities' rules, and every alert's
runbook section, are checked by the service's tests (test_observability_deploy_files.py)."""

from ...fixtures.observability import SERVICE_RULES, rule_tests
from .rules import alerts, assert_complete, promtool, untested


def test_promtool_accepts_the_rules(promtool_binary: str) -> None:
    output = promtool(promtool_binary, "check", "rules", str(SERVICE_RULES))

    assert output.count("SUCCESS") == 1, output


def test_the_rules_pass_their_unit_tests(promtool_binary: str) -> None:
    output = promtool(promtool_binary, "test", "rules", str(rule_tests(SERVICE_RULES)))

    assert output.count("SUCCESS") == 1, output


def test_every_alert_has_severity_summary_wait_and_a_runbook_link() -> None:
    found = alerts(SERVICE_RULES)
    assert found

    for alert in found:
        assert_complete(alert)


def test_every_alert_is_tested_firing_and_resolved() -> None:
    never_firing, never_quiet = untested(SERVICE_RULES, rule_tests(SERVICE_RULES))

    assert never_firing == set(), "never tested firing"
    assert never_quiet == set(), "never tested quiet or resolved"
