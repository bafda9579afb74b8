"""IAM policies of the templates, linted offline with parliament (Duo Labs' IAM linter).

Every policy document in service.yaml, rendered with every optional part on (database, ECS Exec,
access logs), is turned into the JSON that IAM would receive (intrinsic functions replaced by
example ARNs of the same shape) and analysed. A finding fails the test unless it is listed in
JUSTIFIED with the reason it is right as it is.
"""

from __future__ import annotations

import json
import re

import pytest
from parliament import analyze_policy_string

from cfn_render import render

ACCOUNT = "123456789012"
REGION = "us-east-1"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-1234-AbCdEf"
ATTRIBUTES = {
    "LogGroup.Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/todo-app/test-stack:*",
    "AccessLogsBucket.Arn": "arn:aws:s3:::test-stack-accesslogsbucket-1a2b3c",
}
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
          "AWS::StackName": "test-stack", "AWS::URLSuffix": "amazonaws.com"}

# (policy, issue) -> why the finding is right for this template.
JUSTIFIED = {
    # The execution role logs in to ECR to pull the image: GetAuthorizationToken returns a
    # registry credential, which is exactly its purpose (AWS's own
    # AmazonECSTaskExecutionRolePolicy grants the same). The role can be assumed only by ECS
    # tasks of this account (aws:SourceAccount), and its pull actions name one repository.
    ("ExecutionRole/pull-image", "CREDENTIALS_EXPOSURE"): "ECR login is the execution role's job",
}
# Trust policies (AssumeRolePolicyDocument) are resource policies with a Principal, which
# parliament reads as a malformed identity policy; they are checked by checkov and by
# test_deploy_moto (aws:SourceAccount condition) instead.


def lint(document):
    return analyze_policy_string(json.dumps(document), include_community_auditors=True).findings


def concrete(node, rendered):
    """The JSON IAM gets: Ref, GetAtt and Sub replaced by example values."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            name = node["Ref"]
            return rendered.parameters.get(name) or PSEUDO.get(name) or f"{name}-physical-id"
        if set(node) == {"Fn::GetAtt"}:
            target, attribute = node["Fn::GetAtt"]
            return ATTRIBUTES[f"{target}.{attribute}"]
        if set(node) == {"Fn::Sub"}:
            text, variables = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
            values = {k: concrete(v, rendered) for k, v in variables.items()}

            def substitute(match):
                key = match.group(1)
                if key in values:
                    return values[key]
                if key in PSEUDO:
                    return PSEUDO[key]
                if key in ATTRIBUTES:
                    return ATTRIBUTES[key]
                return rendered.parameters[key]
            return re.sub(r"\$\{([^}]+)\}", substitute, text)
        return {k: concrete(v, rendered) for k, v in node.items()}
    if isinstance(node, list):
        return [concrete(v, rendered) for v in node]
    return node


def policies():
    rendered = render("service.yaml", VpcId="vpc-1", PublicSubnetIds="subnet-1,subnet-2", ImageTag="rev1",
                      DatabaseHost="db.example", DatabaseSecretArn=SECRET, DatabaseClientSecurityGroup="sg-0abc",
                      EnableExecuteCommand="true", EnableAccessLogs="true", EnableWaf="true")
    found = {}
    for name, resource in rendered.resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            found[f"{name}/trust"] = concrete(resource["Properties"]["AssumeRolePolicyDocument"], rendered)
            for policy in resource["Properties"].get("Policies", []):
                found[f"{name}/{policy['PolicyName']}"] = concrete(policy["PolicyDocument"], rendered)
    return found


POLICIES = policies()


def test_every_optional_policy_is_linted():
    assert {"ExecutionRole/pull-image", "ExecutionRole/write-logs", "ExecutionRole/read-database-secret",
            "TaskRole/read-database-secret", "TaskRole/ecs-exec"} <= set(POLICIES)


@pytest.mark.parametrize("name", sorted(n for n in POLICIES if not n.endswith("/trust")))
def test_parliament_finds_nothing_unjustified(name):
    findings = lint(POLICIES[name])
    unexplained = [f"{f.issue} ({f.severity}): {f.detail}" for f in findings if (name, f.issue) not in JUSTIFIED]
    assert not unexplained, f"{name}: {unexplained}"


def test_justifications_are_still_needed():
    """A justification whose finding no longer appears is stale and goes."""
    for (name, issue) in JUSTIFIED:
        issues = {f.issue for f in lint(POLICIES[name])}
        assert issue in issues, f"{name}: {issue} is justified but parliament no longer reports it"


def test_the_linter_sees_a_broken_policy():
    """The check can fail: a misspelt action and a wildcard action in a copy are reported."""
    broken = json.loads(json.dumps(POLICIES["ExecutionRole/write-logs"]))
    broken["Statement"][0]["Action"] = ["logs:PutLogEvent", "iam:*"]
    broken["Statement"][0]["Resource"] = "*"
    issues = {f.issue for f in lint(broken)}
    assert "UNKNOWN_ACTION" in issues
