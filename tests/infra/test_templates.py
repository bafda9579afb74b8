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
             "EnableLoadBalancer": "true" if alb else "false", "CloudFrontPrefixListId": "pl-3b927c52"}
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
    } | {
        name for name, rule in rendered.of_type("AWS::ElasticLoadBalancingV2::ListenerRule").items()
        for action in rule["Properties"]["Actions"]
        if action["Type"] == "forward" and action["TargetGroupArn"]["Ref"] in target_groups
    }
    assert bool(forwarding) == alb
    missing = forwarding - rendered.dependencies(service_name)
    assert not missing, f"the service does not wait for {sorted(missing)}"
    # With a certificate, port 80 only redirects: the target group is reached through 443.
    if alb and certificate:
        assert forwarding == {"HttpsListener"}
    # Behind CloudFront, only the rule that checks the origin header forwards.
    if alb and not certificate:
        assert forwarding == {"FromCloudFrontRule"}


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
    assert env["TRUSTED_PROXY_HOPS"] == ("1" if alb and certificate else "2" if alb else "0")
    if alb and certificate:
        assert rendered.outputs["Url"]["Value"] == {"Fn::Sub": f"https://${{DomainName}}"}
        assert env["PUBLIC_URL"] == {"Fn::Sub": "https://${DomainName}"}
        assert "AliasRecord" not in rendered.resources  # no hosted zone: deploy.sh prints the CNAME
    elif alb:
        # HTTPS without a domain: the CloudFront name, which is what users see.
        assert rendered.outputs["Url"]["Value"] == {"Fn::Sub": "https://${Distribution.DomainName}"}
        assert env["PUBLIC_URL"] == rendered.outputs["Url"]["Value"]
        plain = environment(service(alb, database, certificate, EnableCloudFront="false"))
        assert plain["PUBLIC_URL"] == {"Fn::Sub": "http://${LoadBalancer.DNSName}"} and plain["TRUSTED_PROXY_HOPS"] == "1"
    else:
        assert "Url" not in rendered.outputs and env["PUBLIC_URL"] == ""
    assert ("DB_HOST" in env) == database


def test_alias_record_with_a_hosted_zone():
    rendered = service(True, True, True, HostedZoneId="Z0123456789ABCDEFGHIJ")
    record = rendered.resource("AliasRecord")["Properties"]
    assert record["Name"] == {"Ref": "DomainName"} and record["Type"] == "A"
    assert record["AliasTarget"]["DNSName"] == {"Fn::GetAtt": ["LoadBalancer", "DNSName"]}
    # HTTP without a certificate on a name: the Url follows the name.
    rendered = service(True, False, False, DomainName=DOMAIN, HostedZoneId="Z0123456789ABCDEFGHIJ",
                       EnableCloudFront="false")
    assert rendered.outputs["Url"]["Value"] == {"Fn::Sub": "http://${DomainName}"}
    # CloudFront serves its own name: a domain of one's own needs the certificate.
    assert any("DomainName needs CertificateArn" in b for b in broken_rules(
        service(True, False, False, DomainName=DOMAIN)))


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
        assert any(s.get("ManagedRuleGroupStatement", {}).get("Name") == "AWSManagedRulesCommonRuleSet"
                   for s in statements)
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


# CloudFormation takes a template of at most 51,200 bytes inline; deploy.sh sends only the
# registry template so (it holds the bucket the others go through) and the others from S3, where
# 1 MB is the limit. test_deploy_lifecycle deploys a service template above the inline limit.
def test_only_the_registry_template_goes_inline():
    assert len((ROOT / "deploy" / "registry.yaml").read_bytes()) < 51_200 - 20_000
    script = (ROOT / "deploy" / "deploy.sh").read_text()
    assert '--s3-bucket "$TEMPLATE_BUCKET"' in script
    order = [m.group(1) for m in re.finditer(r'deploy_stack "\$[A-Z_]+" ([a-z]+\.yaml)', script)]
    assert order.index("registry.yaml") < order.index("database.yaml") < order.index("service.yaml")
    for name in ("network.yaml", "registry.yaml", "database.yaml", "service.yaml"):
        assert len((ROOT / "deploy" / name).read_bytes()) < 1_000_000 - 100_000, name


# Names that are unique across an account (or all of AWS), whatever the region: a fixed one makes
# a second deployment, in another region or under another stack name, fail with "already
# exists". Each such name must be left to CloudFormation or hold both the stack and the region.
GLOBAL_NAMES = {
    "AWS::CloudWatch::Dashboard": ["DashboardName"],
    "AWS::IAM::Role": ["RoleName"],
    "AWS::IAM::ManagedPolicy": ["ManagedPolicyName"],
    "AWS::IAM::InstanceProfile": ["InstanceProfileName"],
    "AWS::IAM::User": ["UserName"],
    "AWS::IAM::Group": ["GroupName"],
    "AWS::S3::Bucket": ["BucketName"],
    "AWS::CloudFront::CachePolicy": ["CachePolicyConfig.Name"],
    "AWS::CloudFront::OriginRequestPolicy": ["OriginRequestPolicyConfig.Name"],
    "AWS::CloudFront::ResponseHeadersPolicy": ["ResponseHeadersPolicyConfig.Name"],
    "AWS::CloudFront::Function": ["Name"],
    "AWS::CloudFront::OriginAccessControl": ["OriginAccessControlConfig.Name"],
    # A web ACL is regional unless its scope is CLOUDFRONT; either way the name must not clash.
    "AWS::WAFv2::WebACL": ["Name"],
    "AWS::WAFv2::IPSet": ["Name"],
}


def text_of(value):
    """The literal text of a name: a string, or the template of a Fn::Sub."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return repr(value)


@pytest.mark.parametrize("name", ["network.yaml", "registry.yaml", "database.yaml", "service.yaml"])
def test_no_fixed_account_global_names(name):
    resources = load(name)["Resources"]
    checked = 0
    for logical_id, resource in resources.items():
        for path in GLOBAL_NAMES.get(resource["Type"], []):
            value = resource.get("Properties", {})
            for key in path.split("."):
                value = value.get(key) if isinstance(value, dict) else None
            if value is None:
                continue  # named by CloudFormation: unique
            checked += 1
            text = text_of(value)
            assert "${AWS::StackName}" in text and "${AWS::Region}" in text, (
                f"{logical_id}.{path} = {value!r}: a second region or stack would collide")
    if name == "service.yaml":
        assert checked >= 2  # the dashboard and the cache policy


def test_cloudfront_in_front_of_the_load_balancer_by_default():
    rendered = service(True, True, False)
    assert rendered.conditions["HasCloudFront"]
    distribution = rendered.resource("Distribution")["Properties"]["DistributionConfig"]
    assert distribution["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    behavior = distribution["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    (origin,) = distribution["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["LoadBalancer", "DNSName"]}
    # The load balancer: port 80 from CloudFront's prefix list only, 403 without this stack's
    # origin header, forwarded with it.
    assert "LoadBalancerIngressHttp" not in rendered.resources
    ingress = rendered.resource("LoadBalancerIngressFromCloudFront")["Properties"]
    assert ingress["SourcePrefixListId"] == {"Ref": "CloudFrontPrefixListId"} and ingress["FromPort"] == 80
    assert "SecurityGroupIngress" not in rendered.resource("LoadBalancerSecurityGroup")["Properties"]
    listener = rendered.resource("HttpListener")["Properties"]
    assert [a["Type"] for a in listener["DefaultActions"]] == ["fixed-response"]
    (header,) = origin["OriginCustomHeaders"]
    (condition,) = rendered.resource("FromCloudFrontRule")["Properties"]["Conditions"]
    assert condition["HttpHeaderConfig"] == {"HttpHeaderName": header["HeaderName"], "Values": [header["HeaderValue"]]}
    assert "CloudFrontPrefixListId is required with CloudFront: the load balancer must admit CloudFront only." in \
        broken_rules(service(True, True, False, CloudFrontPrefixListId=""))
    # Plain HTTP only when asked for; a certificate means HTTPS on the load balancer instead.
    plain = service(True, True, False, EnableCloudFront="false")
    assert "Distribution" not in plain.resources and "LoadBalancerIngressHttp" in plain.resources
    assert "Distribution" not in service(True, True, True).resources


WEBDAV_METHODS = ["PROPFIND", "REPORT", "PROPPATCH", "MKCALENDAR", "OPTIONS"]
XSS_LABEL = "awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body"


def fields_matched(value):
    """Every FieldToMatch in a WAF statement tree, as the request part it names."""
    if isinstance(value, dict):
        found = set(value["FieldToMatch"]) if "FieldToMatch" in value else set()
        for inner in value.values():
            found |= fields_matched(inner)
        return found
    if isinstance(value, list):
        return set().union(*(fields_matched(v) for v in value)) if value else set()
    return set()


@pytest.mark.parametrize("certificate", [True, False])
def test_caldav_gets_through(certificate):
    """WebDAV methods with XML bodies and /.well-known/caldav reach the app: no listener rule
    looks at the method or the path, with a certificate the HTTPS listener forwards everything,
    and the WAF's common rules neither block large bodies nor take XML or iCalendar for
    cross-site scripting. Without a certificate CloudFront forwards every method it knows,
    uncached, with Authorization and cookies (and refuses WebDAV's own: see docs/deploy.md)."""
    rendered = service(True, True, certificate, EnableWaf="true")
    for rule in rendered.of_type("AWS::ElasticLoadBalancingV2::ListenerRule").values():
        fields = {c["Field"] for c in rule["Properties"]["Conditions"]}
        assert not fields & {"http-request-method", "path-pattern"}, fields
        assert rule["Properties"]["Actions"][0]["Type"] == "forward"
    for listener in rendered.of_type("AWS::ElasticLoadBalancingV2::Listener").values():
        assert listener["Properties"]["DefaultActions"][0]["Type"] in ("forward", "redirect", "fixed-response")
    if certificate:
        # The domain path: 443 forwards every request to the app, 80 only redirects, and no
        # CloudFront stands in the way.
        https = rendered.resource("HttpsListener")["Properties"]
        assert https["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}]
        assert not [r for r in rendered.of_type("AWS::ElasticLoadBalancingV2::ListenerRule").values()
                    if r["Properties"]["ListenerArn"] == {"Ref": "HttpsListener"}]
        (redirect,) = rendered.resource("HttpListener")["Properties"]["DefaultActions"]
        assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Protocol"] == "HTTPS"
        assert "Distribution" not in rendered.resources

    acl = rendered.resource("WebAcl")["Properties"]
    assert acl["DefaultAction"] == {"Allow": {}}
    # No WAF rule looks at the method or the path.
    assert not fields_matched(acl["Rules"]) & {"Method", "UriPath"}, fields_matched(acl["Rules"])
    (common,) = [r for r in acl["Rules"]
                 if r["Statement"].get("ManagedRuleGroupStatement", {}).get("Name") == "AWSManagedRulesCommonRuleSet"]
    overrides = {o["Name"]: o["ActionToUse"] for o in common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]}
    assert overrides == {"SizeRestrictions_BODY": {"Count": {}}, "CrossSiteScripting_BODY": {"Count": {}}}
    # What CrossSiteScripting_BODY matches is blocked again, after the group has labelled it,
    # unless the body is XML or iCalendar.
    (xss,) = [r for r in acl["Rules"] if "AndStatement" in r["Statement"]]
    assert xss["Action"] == {"Block": {}} and xss["Priority"] > common["Priority"]
    label, exempt = xss["Statement"]["AndStatement"]["Statements"]
    assert label == {"LabelMatchStatement": {"Scope": "LABEL", "Key": XSS_LABEL}}
    regex = exempt["NotStatement"]["Statement"]["RegexMatchStatement"]
    assert regex["FieldToMatch"] == {"SingleHeader": {"Name": "content-type"}}
    assert [t["Type"] for t in regex["TextTransformations"]] == ["LOWERCASE"]
    for content_type, passes in [
        ("application/xml; charset=utf-8", True), ("text/xml", True), ("Text/Calendar; charset=UTF-8", True),
        ("application/json", False), ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False), ("text/html", False), ("text/plain", False),
        ("application/xml-patch+json", False), ("application/json; x=text/xml", False),
    ]:
        assert bool(re.search(regex["RegexString"], content_type.lower())) == passes, content_type
    if certificate:
        return
    behavior = rendered.resource("Distribution")["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    # CloudFront knows no other methods: it refuses WebDAV's own with 403 whatever this says
    # (docs/deploy.md: CalDAV needs a domain and a certificate).
    assert sorted(behavior["AllowedMethods"]) == sorted(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"])
    assert behavior["OriginRequestPolicyId"] == "216adef6-5c7f-47e4-b989-5492eafa07d3"  # AllViewer
    assert behavior["CachePolicyId"] == {"Ref": "AppCachePolicy"} and "ForwardedValues" not in behavior
    policy = rendered.resource("AppCachePolicy")["Properties"]["CachePolicyConfig"]
    assert (policy["MinTTL"], policy["DefaultTTL"]) == (0, 0) and policy["MaxTTL"] <= 1
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Authorization"]}
    assert key["CookiesConfig"] == {"CookieBehavior": "all"}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    # Behind CloudFront the WAF counts per client, not per CloudFront address.
    (rate,) = [r["Statement"]["RateBasedStatement"] for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["AggregateKeyType"] == "FORWARDED_IP" and rate["ForwardedIPConfig"]["HeaderName"] == "X-Forwarded-For"


def test_database_from_a_snapshot():
    fresh = render("database.yaml", VpcId="vpc-1", SubnetIds="subnet-1,subnet-2").resource("Database")["Properties"]
    assert "DBSnapshotIdentifier" not in fresh and fresh["StorageEncrypted"] is True
    restored = render("database.yaml", VpcId="vpc-1", SubnetIds="subnet-1,subnet-2",
                      SnapshotIdentifier="todo-app-database-database-1a2b-snapshot").resource("Database")["Properties"]
    assert restored["DBSnapshotIdentifier"] == {"Ref": "SnapshotIdentifier"}
    # The snapshot brings these; CloudFormation refuses them next to DBSnapshotIdentifier.
    assert not {"DBName", "MasterUsername", "StorageEncrypted"} & set(restored)
    assert restored["ManageMasterUserPassword"] is True
