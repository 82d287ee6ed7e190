"""An organization scenario's worlds, member roles and the multi-target parameters it deploys."""

from __future__ import annotations

from lfv_workbench.local.up import org_targets, organization_parameters
from lfv_workbench.simulator import load_scenario_file, org_scenario_path, parse_scenario

MULTI_TARGET_TEMPLATE = {"Targets": {"Type": "CommaDelimitedList", "Default": ""}}
ORG_TARGETS = (
    "123456789012:us-east-1,111111111111:us-east-1,111111111111:eu-west-1,222222222222:eu-west-1"
)


def test_the_packaged_organization_has_two_members_in_two_regions_and_one_role_missing() -> None:
    # Given the packaged organization scenario
    scenario = load_scenario_file(org_scenario_path())
    # Then it serves the monitoring account and two members, in two regions
    assert org_targets(scenario) == ORG_TARGETS.split(",")
    assert {w.region for w in scenario.worlds()} == {"us-east-1", "eu-west-1"}
    # and only the first member has its role
    assert scenario.member_role_accounts() == ["111111111111"]
    # and every world has jobs that change while the demo plays
    assert all(any(p.jobs for p in w.projects) for w in scenario.worlds())


def test_a_multi_target_template_is_deployed_with_the_organization_as_its_targets() -> None:
    scenario = load_scenario_file(org_scenario_path())
    # When the template declares Targets, Then the organization's worlds are its targets
    assert organization_parameters(scenario, MULTI_TARGET_TEMPLATE, {}) == {"Targets": ORG_TARGETS}
    # unless the caller set them
    given = {"Targets": "111111111111:eu-west-1"}
    assert organization_parameters(scenario, MULTI_TARGET_TEMPLATE, given) == given
    # and a single-account template (or scenario) is deployed as given
    assert organization_parameters(scenario, {}, {"X": "1"}) == {"X": "1"}
    assert organization_parameters(parse_scenario({}), MULTI_TARGET_TEMPLATE, {}) == {}
    assert organization_parameters(None, MULTI_TARGET_TEMPLATE, {}) == {}


def test_the_local_member_role_is_the_one_the_stack_assumes_by_default() -> None:
    # Given the stack's MemberRoleName parameter, Then the local stack creates that role
    from lfv_workbench.local.accounts import MEMBER_ROLE_NAME
    from lfv_workbench.local.template import load_template
    from lfv_workbench.local.up import default_template_path

    parameters = load_template(default_template_path())["Parameters"]
    assert parameters["MemberRoleName"]["Default"] == MEMBER_ROLE_NAME
    assert "Targets" in parameters  # so an organization scenario deploys multi-target mode


def test_the_local_member_role_allows_the_actions_of_member_role_yaml() -> None:
    from pathlib import Path

    from lfv_workbench.local.accounts import MEMBER_ROLE_ACTIONS
    from lfv_workbench.local.template import load_template

    template = load_template(Path(__file__).resolve().parents[2] / "member-role.yaml")
    actions: set[str] = set()
    for resource in template["Resources"].values():
        for policy in resource.get("Properties", {}).get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                action = statement["Action"]
                actions.update([action] if isinstance(action, str) else action)
    assert actions == set(MEMBER_ROLE_ACTIONS)
