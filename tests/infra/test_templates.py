"""Rules over the rendered templates, for every combination of load balancer x database x
certificate (and the other options where they change the template).

cfn-lint checks that each template is valid CloudFormation; these check that each concrete
deployment does what a real account needs: the ECS service waits for every listener that
forwards to its target group, the load balancer checks liveness, an update does not reset the
desired count, parameters and rules accept exactly what AWS accepts.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from cfn_render import broken_rules, load, render

ROOT = Path(__file__).resolve().parents[2]
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8091-a2b3c4d5e6f7"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234-AbCdEf"
DOMAIN = "todo.example.com"


def service(alb: bool, database: bool, certificate: bool, **more: str):
    given = {"VpcId": "vpc-1", "PublicSubnetIds": "subnet-1,subnet-2", "ImageTag": "rev1",
             "EnableLoadBalancer": "true" if alb else "false"}
    if database:
        given.update(DatabaseHost="db.example", DatabaseSecretArn=SECRET, DatabaseClientSecurityGroup="sg-0abc")
    if certificate:
        given.update(CertificateArn=CERT, DomainName=DOMAIN)
    given.update(more)
    return render("service.yaml", **given)


COMBINATIONS = [
    pytest.param(alb, db, cert, id=f"alb-{'on' if alb else 'off'}-db-{'on' if db else 'off'}-cert-{'on' if cert else 'off'}")
    for alb, db, cert in itertools.product([True, False], repeat=3)
]


def container(rendered):
    (definition,) = rendered.of_type("AWS::ECS::TaskDefinition").values()
    (app,) = definition["Properties"]["ContainerDefinitions"]
    return app


def environment(rendered):
    """The container environment, with references to parameters replaced by their values."""
    def value(v):
        if isinstance(v, dict) and set(v) == {"Ref"} and v["Ref"] in rendered.parameters:
            return rendered.parameters[v["Ref"]]
        return v
    return {e["Name"]: value(e["Value"]) for e in container(rendered)["Environment"]}


@pytest.mark.parametrize("alb,database,certificate", COMBINATIONS)
def test_service_waits_for_every_listener_of_its_target_group(alb, database, certificate):
    rendered = service(alb, database, certificate)
    (service_name,) = rendered.of_type("AWS::ECS::Service")
    target_groups = {
        lb["TargetGroupArn"]["Ref"]
        for lb in rendered.resource(service_name)["Properties"].get("LoadBalancers", [])
    }
    assert bool(target_groups) == alb
    forwarding = {
        name for name, listener in rendered.of_type("AWS::ElasticLoadBalancingV2::Listener").items()
        for action in listener["Properties"]["DefaultActions"]
        if action["Type"] == "forward" and action["TargetGroupArn"]["Ref"] in target_groups
    }
    assert bool(forwarding) == alb
    missing = forwarding - rendered.dependencies(service_name)
    assert not missing, f"the service does not wait for {sorted(missing)}"
    # With a certificate, port 80 only redirects: the target group is reached through 443.
    if alb and certificate:
        assert forwarding == {"HttpsListener"}


@pytest.mark.parametrize("alb,database,certificate", COMBINATIONS)
def test_health_checks_are_liveness(alb, database, certificate):
    rendered = service(alb, database, certificate)
    for group in rendered.of_type("AWS::ElasticLoadBalancingV2::TargetGroup").values():
        # /readyz fails on every task while the database is away; ECS would replace them all.
        assert group["Properties"]["HealthCheckPath"] == "/healthz"
    assert container(rendered)["HealthCheck"]["Command"] == ["CMD", "/usr/local/bin/todo-app", "healthcheck"]


@pytest.mark.parametrize("alb,database,certificate", COMBINATIONS)
def test_no_desired_count_unless_given(alb, database, certificate):
    rendered = service(alb, database, certificate)
    (svc,) = rendered.of_type("AWS::ECS::Service").values()
    assert "DesiredCount" not in svc["Properties"]
    rendered = service(alb, database, certificate, DesiredCount="3")
    (svc,) = rendered.of_type("AWS::ECS::Service").values()
    assert svc["Properties"]["DesiredCount"] == {"Ref": "DesiredCount"}


@pytest.mark.parametrize("alb,database,certificate", COMBINATIONS)
def test_url_and_app_environment(alb, database, certificate):
    rendered = service(alb, database, certificate)
    env = environment(rendered)
    assert env["AUTH_MODE"] == "accounts" and env["SIGNUP"] == "open"
    assert env["CORS_ORIGINS"] == ""  # set, and empty: no origin
    assert env["TRUSTED_PROXY_HOPS"] == ("1" if alb else "0")
    if alb and certificate:
        assert rendered.outputs["Url"]["Value"] == {"Fn::Sub": f"https://${{DomainName}}"}
        assert env["PUBLIC_URL"] == {"Fn::Sub": "https://${DomainName}"}
        assert "AliasRecord" not in rendered.resources  # no hosted zone: deploy.sh prints the CNAME
    elif alb:
        assert rendered.outputs["Url"]["Value"] == {"Fn::Sub": "http://${LoadBalancer.DNSName}"}
        assert env["PUBLIC_URL"] == rendered.outputs["Url"]["Value"]
    else:
        assert "Url" not in rendered.outputs and env["PUBLIC_URL"] == ""
    assert ("DB_HOST" in env) == database


def test_alias_record_with_a_hosted_zone():
    rendered = service(True, True, True, HostedZoneId="Z0123456789ABCDEFGHIJ")
    record = rendered.resource("AliasRecord")["Properties"]
    assert record["Name"] == {"Ref": "DomainName"} and record["Type"] == "A"
    assert record["AliasTarget"]["DNSName"] == {"Fn::GetAtt": ["LoadBalancer", "DNSName"]}
    # HTTP without a certificate on a name: the Url follows the name.
    rendered = service(True, False, False, DomainName=DOMAIN, HostedZoneId="Z0123456789ABCDEFGHIJ")
    assert rendered.outputs["Url"]["Value"] == {"Fn::Sub": "http://${DomainName}"}


def test_certificate_needs_a_domain_name():
    rendered = service(True, False, False, CertificateArn=CERT)
    assert any("DomainName is required with CertificateArn" in b for b in broken_rules(rendered))
    assert broken_rules(service(True, False, True)) == []


# Fargate's task sizes (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html).
FARGATE = {
    "256": {512, 1024, 2048},
    "512": set(range(1024, 4097, 1024)),
    "1024": set(range(2048, 8193, 1024)),
    "2048": set(range(4096, 16385, 1024)),
    "4096": set(range(8192, 30721, 1024)),
}


def test_cpu_memory_rules_accept_exactly_the_fargate_sizes():
    template = load("service.yaml")
    cpus = template["Parameters"]["Cpu"]["AllowedValues"]
    memories = template["Parameters"]["Memory"]["AllowedValues"]
    assert set(cpus) == set(FARGATE)
    for cpu, memory in itertools.product(cpus, memories):
        rendered = service(True, True, False, Cpu=cpu, Memory=memory)
        ok = not [b for b in broken_rules(rendered) if "Memory" in b]
        assert ok == (int(memory) in FARGATE[cpu]), (cpu, memory)


def test_spot_beyond_the_minimum_on_x86_only():
    rendered = service(True, True, False, EnableSpot="true", MinCount="2")
    props = rendered.resource("Service")["Properties"]
    assert "LaunchType" not in props
    assert props["CapacityProviderStrategy"] == [
        {"CapacityProvider": "FARGATE", "Base": {"Ref": "MinCount"}, "Weight": 0},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1},
    ]
    assert set(rendered.resource("Cluster")["Properties"]["CapacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}
    assert "Fargate Spot runs X86_64 tasks only." in broken_rules(
        service(True, True, False, EnableSpot="true", CpuArchitecture="ARM64"))
    plain = service(True, True, False).resource("Service")
    assert plain["Properties"]["LaunchType"] == "FARGATE" and "CapacityProviderStrategy" not in plain["Properties"]


def test_arm64_task_definition():
    rendered = service(True, True, False, CpuArchitecture="ARM64")
    (definition,) = rendered.of_type("AWS::ECS::TaskDefinition").values()
    assert definition["Properties"]["RuntimePlatform"]["CpuArchitecture"] == {"Ref": "CpuArchitecture"}
    assert rendered.parameters["CpuArchitecture"] == "ARM64"


@pytest.mark.parametrize("alb", [True, False])
def test_waf_and_access_logs_only_with_the_load_balancer(alb):
    rendered = service(alb, True, False, EnableWaf="true", EnableAccessLogs="true")
    assert ("WebAclAssociation" in rendered.resources) == alb
    assert ("AccessLogsBucket" in rendered.resources) == alb
    if alb:
        acl = rendered.resource("WebAcl")["Properties"]
        statements = [r["Statement"] for r in acl["Rules"]]
        assert {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}} in statements
        assert any("RateBasedStatement" in s for s in statements)
        # The load balancer checks that it may write to the bucket when logging is turned on.
        assert "AccessLogsBucketPolicy" in rendered.dependencies("LoadBalancer")
        attributes = {a["Key"]: a["Value"] for a in rendered.resource("LoadBalancer")["Properties"]["LoadBalancerAttributes"]}
        assert attributes["access_logs.s3.enabled"] == "true"
    off = service(alb, True, False)
    assert "WebAcl" not in off.resources and "AccessLogsBucket" not in off.resources


@pytest.mark.parametrize("account,principal", [("127311923021", "AWS"), ("", "Service")])
def test_access_log_writer_by_region(account, principal):
    rendered = render("service.yaml", VpcId="vpc-1", PublicSubnetIds="subnet-1", ImageTag="r",
                      EnableAccessLogs="true", ElbLogAccount=account)
    statement = rendered.resource("AccessLogsBucketPolicy")["Properties"]["PolicyDocument"]["Statement"][0]
    assert list(statement["Principal"]) == [principal]


@pytest.mark.parametrize("alb,database,certificate", COMBINATIONS)
def test_alarms(alb, database, certificate):
    rendered = service(alb, database, certificate)
    alarms = set(rendered.of_type("AWS::CloudWatch::Alarm"))
    assert "RunningTasksAlarm" in alarms
    assert {"Target5xxRateAlarm", "LatencyP99Alarm"} <= alarms if alb else not ({"Target5xxRateAlarm", "LatencyP99Alarm"} & alarms)
    latency = rendered.template["Resources"]["LatencyP99Alarm"]["Properties"]
    assert latency["ExtendedStatistic"] == "p99"


@pytest.mark.parametrize("instance_class,burstable", [("db.t4g.micro", True), ("db.t3.small", True), ("db.m7g.large", False)])
def test_database_alarms(instance_class, burstable):
    rendered = render("database.yaml", VpcId="vpc-1", SubnetIds="subnet-1,subnet-2", DBInstanceClass=instance_class)
    alarms = set(rendered.of_type("AWS::CloudWatch::Alarm"))
    assert {"ConnectionsAlarm", "FreeableMemoryAlarm"} <= alarms
    assert ("CpuCreditAlarm" in alarms) == burstable


def test_network_zones_chosen_or_defaulted():
    picked = render("network.yaml", AvailabilityZoneA="eu-west-1b", AvailabilityZoneB="eu-west-1c")
    assert picked.resource("PublicSubnetA")["Properties"]["AvailabilityZone"] == {"Ref": "AvailabilityZoneA"}
    assert picked.resource("PrivateSubnetB")["Properties"]["AvailabilityZone"] == {"Ref": "AvailabilityZoneB"}
    default = render("network.yaml")
    assert default.resource("PublicSubnetB")["Properties"]["AvailabilityZone"] == {"Fn::Select": [1, {"Fn::GetAZs": ""}]}
    assert broken_rules(render("network.yaml", AvailabilityZoneA="eu-west-1b", AvailabilityZoneB="eu-west-1b"))


def satisfies(spec: dict, value: str) -> bool:
    if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
        return False
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        return False
    if spec.get("Type") == "Number":
        number = float(value)
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return False
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return False
    return True


@pytest.mark.parametrize("name", ["network.yaml", "registry.yaml", "database.yaml", "service.yaml"])
def test_parameters_valid(name):
    template = load(name)
    for pname, spec in template["Parameters"].items():
        assert spec.get("Description"), pname
        if "Default" in spec:
            assert satisfies(spec, str(spec["Default"])), f"{pname}: default {spec['Default']!r} breaks its own constraint"
    # Every parameter deploy.sh passes to this template exists in it.
    script = (ROOT / "deploy" / "deploy.sh").read_text()
    keys = set()
    for block in re.findall(rf'deploy_stack "\$[A-Z_]+" {re.escape(name)}((?:[^\n]*\\\n)*[^\n]*)', script):
        keys |= set(re.findall(r'"([A-Z][A-Za-z0-9]+)=', block))
    assert keys, f"deploy.sh passes no parameters to {name}"
    assert keys <= set(template["Parameters"]), sorted(keys - set(template["Parameters"]))


@pytest.mark.parametrize("name", ["network.yaml", "registry.yaml", "database.yaml", "service.yaml"])
def test_template_fits_inline_without_comments(name, tmp_path):
    """deploy.sh sends each template without its comment lines: it must be the same template,
    and fit CloudFormation's 51,200-byte limit for a template body (with room to grow)."""
    text = (ROOT / "deploy" / name).read_text()
    stripped = "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))
    (tmp_path / name).write_text(stripped)
    from cfnlint.decode import cfn_yaml
    assert cfn_yaml.load(str(tmp_path / name)) == load(name)
    assert len(stripped.encode()) < 51_200 - 2_000, len(stripped.encode())
