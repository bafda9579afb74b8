"""Deploy the stacks with deploy/deploy.sh to moto (a local AWS emulator) and check the wiring.

For each of the four combinations of load balancer on/off and database on/off this runs the
real script with the real AWS CLI against moto in server mode on 127.0.0.1, then asks moto's
service APIs what was created: subnets and routes, security group rules, the task definition
(environment, secrets, logging, health check), IAM policies, the service's desired count, the
load balancer and target group, the database. It then checks that a second identical `up`
changes nothing, that a new image tag rolls out a new task definition revision, and that
`down` deletes everything but the registry.

What moto does not model, and so this test cannot verify (cfn-lint validates these resources
against the CloudFormation specification instead, and the docs say how to check them on AWS):
- The running service: moto starts no tasks, so there is no URL to smoke test (`--no-smoke`),
  and CloudFormation's wait for a stable service (with the circuit breaker) is not exercised.
- ECS service details: moto does not record LoadBalancers, NetworkConfiguration,
  DeploymentConfiguration or HealthCheckGracePeriodSeconds of an AWS::ECS::Service, and a stack
  update does not register a new task definition revision when the changed parameter (ImageTag)
  is used inside Fn::Sub, nor move the service; the update completing and the stack's new
  ImageTag are checked.
- AWS::ApplicationAutoScaling::*, AWS::CloudWatch::Alarm: skipped by moto's CloudFormation.
- RDS: moto reads the instance's security groups from a property name CloudFormation does not
  have, so the link DB instance -> database security group is not recorded (the group's rules
  are checked); it also drops DeletionProtection (the stack parameter is checked); the parameter
  group values and storage autoscaling are not checked.
- The managed master user secret: with ManageMasterUserPassword RDS creates the secret and
  `Fn::GetAtt Database.MasterUserSecret.SecretArn` names it. moto supports neither, so the test
  creates a secret through moto's Secrets Manager API and substitutes its ARN for that one
  expression in a copy of database.yaml (TODO_DEPLOY_TEMPLATE_DIR points deploy.sh at the
  copies). Everything downstream of the ARN (outputs, Parameter Store value, task definition
  secrets, IAM policies) is then checked against it.
- Task definition: moto keeps the containers and memory but drops Cpu, NetworkMode,
  RequiresCompatibilities and the two role ARNs (the roles are found through the stack).
- ECR: moto's CloudFormation applies ImageTagMutability (checked) but neither the scan on push
  setting nor the lifecycle policy.
- Target group attributes (the deregistration delay) are not applied by moto.
- Deleting the network stack can stop on a DependencyViolation for the VPC, because moto leaves
  resources of the deleted stacks behind; the test accepts exactly that failure.
- Security group egress: moto ignores inline SecurityGroupEgress rules (the default allow-all
  stays), so only ingress rules are checked.
- Subnet to route table associations are not recorded; the two route tables are checked.
- moto's own CloudFormation bugs that would break the deployment are patched in
  tests/infra/moto_server.py, each explained there.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "deploy.sh"
REGION = "us-east-1"
SECRET_GETATT = '{"Fn::GetAtt": [Database, MasterUserSecret.SecretArn]}'
# A minimal image manifest: moto's ECR stores it, which is all deploy.sh checks for.
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        },
        "layers": [],
    }
)
COMMAND_TIMEOUT = 300  # seconds for one deploy.sh run; moto answers in seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("moto_server.py")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start, see {log.name}")
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def env(endpoint):
    e = dict(os.environ)
    e.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ENDPOINT_URL=endpoint,
        # The AWS CLI of the test environment comes first.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    e.pop("AWS_PROFILE", None)
    return e


@pytest.fixture(scope="module")
def aws(env):
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return lambda service: session.client(service, endpoint_url=env["AWS_ENDPOINT_URL"])


def deploy(env, templates, *args, expect_ok=True):
    result = subprocess.run(
        [str(DEPLOY), *args],
        env={**env, "TODO_DEPLOY_TEMPLATE_DIR": str(templates)},
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    output = result.stdout + result.stderr
    if expect_ok:
        assert result.returncode == 0, f"deploy.sh {' '.join(args)} failed:\n{output}"
    else:
        assert result.returncode != 0, f"deploy.sh {' '.join(args)} should have failed:\n{output}"
    return output


def outputs(aws, stack):
    desc = aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in desc.get("Outputs", [])}


def stack_status(aws, stack):
    try:
        return aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except aws("cloudformation").exceptions.ClientError:
        return "NONE"


def rules(group, direction):
    """Security group rules as comparable tuples: (protocol, from, to, source)."""
    found = set()
    for p in group["IpPermissions" if direction == "in" else "IpPermissionsEgress"]:
        for r in p.get("IpRanges", []):
            found.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIp"]))
        for g in p.get("UserIdGroupPairs", []):
            found.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), g["GroupId"]))
    return found


def group(aws, group_id):
    return aws("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]


def role_arn(aws, stack, logical_id):
    resource = aws("cloudformation").describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    name = resource["StackResourceDetail"]["PhysicalResourceId"]
    return aws("iam").get_role(RoleName=name.rsplit("/", 1)[-1])["Role"]["Arn"]


def policy_documents(aws, role_arn):
    iam = aws("iam")
    name = role_arn.rsplit("/", 1)[-1]
    docs = {}
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        if isinstance(doc, str):
            # moto stores a policy given by CloudFormation as the Python text of the dict.
            doc = ast.literal_eval(doc) if doc.startswith("{'") else json.loads(doc)
        docs[policy] = doc
    return docs


@pytest.mark.parametrize("alb", ["on", "off"])
@pytest.mark.parametrize("database", ["on", "off"])
def test_deploy_update_delete(alb, database, env, aws, tmp_path):
    prefix = f"t-alb-{alb}-db-{database}"
    repository = prefix

    # The managed master secret stands in for RDS (see the module docstring).
    secret_arn = aws("secretsmanager").create_secret(
        Name=f"rds!{prefix}", SecretString=json.dumps({"username": "todo_admin", "password": "x"})
    )["ARN"]
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "deploy", templates)
    database_yaml = templates / "database.yaml"
    text = database_yaml.read_text()
    assert text.count(SECRET_GETATT) == 2  # the Parameter Store value and the output
    database_yaml.write_text(text.replace(SECRET_GETATT, f"'{secret_arn}'"))

    common = ["--stack-name", prefix, "--alb", alb, "--database", database, "--region", REGION,
              "--skip-build", "--no-smoke", "--deletion-protection", "off"]
    # Deletion protection is off from the start: moto fails to update an RDS instance through
    # CloudFormation, so the documented "up --deletion-protection off, then down" cannot run.

    # 1. An image tag that is not in the repository is refused with a clear message, after the
    #    registry stack exists.
    out = deploy(env, templates, "up", *common, "--image-tag", "rev1", expect_ok=False)
    assert "image tag 'rev1' is not in repository" in out
    assert stack_status(aws, f"{prefix}-registry") == "CREATE_COMPLETE"
    aws("ecr").put_image(repositoryName=repository, imageTag="rev1", imageManifest=MANIFEST)

    # 2. Deploy. Without the database there is exactly one task (each would have its own data).
    count = ["--desired-count", "3"] if database == "on" else []
    out = deploy(env, templates, "up", *common, "--image-tag", "rev1", *count)
    stacks = [f"{prefix}-network", f"{prefix}-registry", f"{prefix}-service"]
    if database == "on":
        stacks.append(f"{prefix}-database")
    for stack in stacks:
        assert stack_status(aws, stack) == "CREATE_COMPLETE", stack
    if database == "off":
        assert stack_status(aws, f"{prefix}-database") == "NONE"
    assert "smoke test skipped (--no-smoke)" in out

    net = outputs(aws, f"{prefix}-network")
    svc = outputs(aws, f"{prefix}-service")
    reg = outputs(aws, f"{prefix}-registry")
    for key in ("ClusterName", "ServiceName", "LogGroupName", "RepositoryUri", "TaskDefinitionArn"):
        assert svc.get(key), key
    assert svc["RepositoryUri"] == reg["RepositoryUri"]
    if alb == "on":
        # HTTPS without a domain: CloudFront's name (a stand-in in moto, see moto_server.py).
        assert svc["Url"].startswith("https://") and svc["Url"].endswith(".cloudfront.net") and svc["Url"] in out
        # CloudFront refuses WebDAV's methods: the one-command HTTPS says calendar apps need a domain.
        assert "calendar apps do not (CloudFront refuses CalDAV's PROPFIND" in out
        # The URL ends the output: the only line on stdout (which comes first here) and the last
        # progress line.
        assert out.startswith(svc["Url"] + "\n") and out.rstrip().endswith(f"==> the app is at: {svc['Url']}"), out
    else:
        assert "Url" not in svc and "calendar apps" not in out
    # Progress: the stack's events as they happen, with the minutes and seconds since `up`
    # started (moto records only the stack's own events; test_deploy_failures shows a
    # resource's, and the URL ends the output, above).
    def event(status, stack):
        found = re.search(rf"^ *\d+:\d\d  {status} +AWS::CloudFormation::Stack +{stack}\b.*$", out, re.M)
        assert found, f"no progress line for {status} {stack}:\n{out}"
        return found.start()
    for stack in stacks[2:]:  # network and registry were created by the step before
        assert event("CREATE_IN_PROGRESS", stack) < event("CREATE_COMPLETE", stack) < out.index(
            f"==> stack {stack}: CREATE_COMPLETE")

    # Network: two AZs, two public subnets routed to the internet gateway, two private without.
    ec2 = aws("ec2")
    vpc_id = net["VpcId"]
    public = net["PublicSubnets"].split(",")
    private = net["PrivateSubnets"].split(",")
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(SubnetIds=public + private)["Subnets"]}
    assert {s["VpcId"] for s in subnets.values()} == {vpc_id}
    assert len({subnets[s]["AvailabilityZone"] for s in public}) == 2
    assert len({subnets[s]["AvailabilityZone"] for s in private}) == 2
    assert not any(subnets[s]["MapPublicIpOnLaunch"] for s in public + private)
    # moto does not record AWS::EC2::SubnetRouteTableAssociation, so which subnet uses which
    # table cannot be asked; the two tables themselves are checked.
    tables = [t for t in ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
              if not any(a.get("Main") for a in t.get("Associations", []))]
    defaults = sorted(
        next((r.get("GatewayId", "")[:4] for r in t["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"), "none")
        for t in tables
    )
    assert defaults == ["igw-", "none"]  # public: internet gateway; private: no way out

    # Registry: immutable tags (moto's CloudFormation drops ScanOnPush and the lifecycle policy).
    ecr = aws("ecr")
    repo = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"

    # Task definition: size, image, environment, secrets, logging, health check, stop timeout.
    ecs = aws("ecs")
    task = ecs.describe_task_definition(taskDefinition=svc["TaskDefinitionArn"])["taskDefinition"]
    assert task["memory"] == "512"
    container = task["containerDefinitions"][0]
    assert container["image"] == f"{reg['RepositoryUri']}:rev1"
    assert container["portMappings"][0]["containerPort"] == 8080
    assert container["stopTimeout"] == 30
    assert container["healthCheck"]["command"] == ["CMD", "/usr/local/bin/todo-app", "healthcheck"]
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["PORT"] == "8080"
    assert environment["LOG_FORMAT"] == "json"
    assert environment["SHUTDOWN_DRAIN_DELAY"] == "5s" and environment["SHUTDOWN_TIMEOUT"] == "20s"
    if alb == "on":
        # What users see, and two proxies (CloudFront, then the load balancer) in front.
        assert environment["PUBLIC_URL"] == svc["Url"] and environment["TRUSTED_PROXY_HOPS"] == "2"
    else:
        assert environment["PUBLIC_URL"] == "" and environment["TRUSTED_PROXY_HOPS"] == "0"
    log = container["logConfiguration"]
    assert log["logDriver"] == "awslogs"
    assert log["options"]["mode"] == "non-blocking"
    assert log["options"]["awslogs-group"] == svc["LogGroupName"]
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=svc["LogGroupName"])["logGroups"]
    assert groups[0]["retentionInDays"] == 30

    # moto's task definition drops ExecutionRoleArn/TaskRoleArn (and Cpu): find the roles by name.
    execution = policy_documents(aws, role_arn(aws, f"{prefix}-service", "ExecutionRole"))
    task_role = policy_documents(aws, role_arn(aws, f"{prefix}-service", "TaskRole"))
    pull = execution["pull-image"]["Statement"][1]
    assert pull["Resource"].endswith(f":repository/{repository}")
    assert "ecs-exec" not in task_role  # --exec off by default

    task_sg = group(aws, svc["TaskSecurityGroup"])
    # Egress is not checked: moto ignores inline SecurityGroupEgress and keeps the default rule.

    if database == "on":
        db = outputs(aws, f"{prefix}-database")
        assert db["SecretArn"] == secret_arn
        assert {k: environment[k] for k in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_SSLMODE", "DB_SECRET_ARN")} == {
            "DB_HOST": db["Host"], "DB_PORT": "5432", "DB_NAME": "todo", "DB_SSLMODE": "require",
            "DB_SECRET_ARN": secret_arn,
        }
        assert environment["DB_POOL_SIZE"] == "10" and environment["DB_FLEET_SIZE"] == "8"
        assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == {
            "DB_USER": f"{secret_arn}:username::",
            "DB_PASSWORD": f"{secret_arn}:password::",
        }
        assert "DATABASE_URL" not in environment
        # Only this secret, for both roles.
        for docs in (execution, task_role):
            statement = docs["read-database-secret"]["Statement"][0]
            assert statement["Action"] == "secretsmanager:GetSecretValue"
            assert statement["Resource"] == secret_arn
        # Database network: private subnets, 5432 from the client group only, no egress.
        rds = aws("rds")
        instance = rds.describe_db_instances(DBInstanceIdentifier=db["InstanceId"])["DBInstances"][0]
        assert instance["Engine"] == "postgres"
        assert instance["StorageEncrypted"] is True
        assert instance["PubliclyAccessible"] is False
        # moto's CloudFormation drops DeletionProtection; the stack parameter says what was asked.
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in aws("cloudformation").describe_stacks(
            StackName=f"{prefix}-database")["Stacks"][0]["Parameters"]}
        assert parameters["DeletionProtection"] == "false"
        assert instance["BackupRetentionPeriod"] == 7
        assert {s["SubnetIdentifier"] for s in instance["DBSubnetGroup"]["Subnets"]} == set(private)
        client_sg = group(aws, db["ClientSecurityGroup"])
        assert rules(client_sg, "in") == set()
        db_group_id = aws("cloudformation").describe_stack_resource(
            StackName=f"{prefix}-database", LogicalResourceId="DatabaseSecurityGroup"
        )["StackResourceDetail"]["PhysicalResourceId"]
        assert rules(group(aws, db_group_id), "in") == {("tcp", 5432, 5432, db["ClientSecurityGroup"])}
        connection = json.loads(
            aws("ssm").get_parameter(Name=f"/{prefix}-database/connection")["Parameter"]["Value"]
        )
        assert connection == {"host": db["Host"], "port": 5432, "dbname": "todo", "sslmode": "require",
                              "secretArn": secret_arn}
    else:
        assert not any(k.startswith("DB_") for k in environment)
        assert "secrets" not in container or not container["secrets"]
        assert "read-database-secret" not in execution and "read-database-secret" not in task_role

    # Service: desired count (LoadBalancers, NetworkConfiguration, LaunchType: not recorded by moto).
    service = ecs.describe_services(cluster=svc["ClusterName"], services=[svc["ServiceName"]])["services"][0]
    assert service["desiredCount"] == (3 if database == "on" else 1)

    elbv2 = aws("elbv2")
    balancers = [lb for lb in elbv2.describe_load_balancers()["LoadBalancers"] if lb["VpcId"] == vpc_id]
    if alb == "on":
        (lb,) = balancers
        assert lb["Scheme"] == "internet-facing" and lb["Type"] == "application"
        assert {az["SubnetId"] for az in lb["AvailabilityZones"]} == set(public)
        (lb_group_id,) = lb["SecurityGroups"]
        lb_sg = group(aws, lb_group_id)
        # Port 80 from CloudFront's origin-facing prefix list only, not the internet.
        assert rules(lb_sg, "in") == set()
        (prefix_list,) = aws("ec2").describe_managed_prefix_lists(Filters=[
            {"Name": "prefix-list-name", "Values": ["com.amazonaws.global.cloudfront.origin-facing"]}])["PrefixLists"]
        assert [(p["FromPort"], [x["PrefixListId"] for x in p["PrefixListIds"]]) for p in lb_sg["IpPermissions"]] == [
            (80, [prefix_list["PrefixListId"]])]
        assert rules(task_sg, "in") == {("tcp", 8080, 8080, lb_group_id)}
        (tg,) = elbv2.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])["TargetGroups"]
        assert (tg["TargetType"], tg["Port"], tg["HealthCheckPath"]) == ("ip", 8080, "/healthz")
        # moto ignores TargetGroupAttributes (the deregistration delay stays at its default 300).
        (listener,) = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
        # Requests without the origin header of this stack's distribution get a 403; with it
        # they are forwarded, whatever their method or path.
        assert listener["DefaultActions"][0]["Type"] == "fixed-response"
        (rule,) = [r for r in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"]]
        assert rule["Actions"][0]["Type"] == "forward" and rule["Actions"][0]["TargetGroupArn"] == tg["TargetGroupArn"]
        (condition,) = rule["Conditions"]
        stack_id = aws("cloudformation").describe_stacks(StackName=f"{prefix}-service")["Stacks"][0]["StackId"]
        assert condition["Field"] == "http-header"
        assert condition["HttpHeaderConfig"] == {"HttpHeaderName": "X-Origin-Verify", "Values": [stack_id.split("/")[2]]}
    else:
        assert balancers == []
        assert rules(task_sg, "in") == {("tcp", 8080, 8080, "0.0.0.0/0")}

    # 3. Idempotence: the same command again changes nothing.
    revisions = ecs.list_task_definitions(familyPrefix=f"{prefix}-service")["taskDefinitionArns"]
    out = deploy(env, templates, "up", *common, "--image-tag", "rev1", *count)
    for stack in stacks:
        assert f"no changes: stack {stack} is up to date" in out, stack
    assert ecs.list_task_definitions(familyPrefix=f"{prefix}-service")["taskDefinitionArns"] == revisions

    # 4. A new image tag: the service stack updates to a new task definition revision.
    aws("ecr").put_image(repositoryName=repository, imageTag="rev2", imageManifest=MANIFEST)
    deploy(env, templates, "up", *common, "--image-tag", "rev2", *count)
    assert stack_status(aws, f"{prefix}-service") == "UPDATE_COMPLETE"
    # moto detects parameter changes only through Ref, not inside Fn::Sub (where ImageTag is
    # used), so it does not register a new revision; the stack records the new tag.
    assert outputs(aws, f"{prefix}-service")["ImageTag"] == "rev2"

    out = deploy(env, templates, "status", *common)
    assert f"{prefix}-service" in out and "UPDATE_COMPLETE" in out

    # 5. Delete.
    result = subprocess.run([str(DEPLOY), "down", "--yes", *common], env={**env, "TODO_DEPLOY_TEMPLATE_DIR": str(templates)},
                            capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    out = result.stdout + result.stderr
    for stack in (f"{prefix}-service", f"{prefix}-database"):
        assert stack_status(aws, stack) == "NONE", stack
    assert stack_status(aws, f"{prefix}-registry") == "CREATE_COMPLETE"
    if result.returncode != 0:
        # moto leaves resources of the deleted stacks behind (security groups, interfaces), so
        # deleting the VPC can fail with a DependencyViolation that AWS would not raise.
        assert "DependencyViolation" in out and f"deleting stack {prefix}-network" in out, out
    else:
        assert stack_status(aws, f"{prefix}-network") == "NONE"
        assert f"kept: ECR repository {repository}" in out
        if database == "on":
            assert "final snapshot" in out


def test_clear_errors_without_credentials_or_tools(env, tmp_path):
    """deploy.sh says what is missing instead of failing somewhere later."""
    # No AWS CLI on the PATH.
    bare = {**env, "PATH": str(tmp_path)}
    result = subprocess.run(["/bin/bash", str(DEPLOY), "up"], env=bare, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "AWS CLI is not installed" in result.stderr
    # Credentials the endpoint rejects: moto accepts any key, so point at a closed port instead.
    closed = {**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "AWS_MAX_ATTEMPTS": "1"}
    result = subprocess.run([str(DEPLOY), "status"], env=closed, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "no usable AWS credentials" in result.stderr
    # Bad options are refused before any AWS call.
    for args, message in (
        (["up", "--alb", "maybe"], "takes on or off"),
        (["up", "--desired-count", "0"], "whole number from 1 to 10"),
        (["up", "--database", "off", "--desired-count", "2"], "runs exactly one task"),
        (["up", "--cpu", "256", "--memory", "4096"], "Fargate has no task size"),
        (["up", "--certificate-arn", "arn:aws:acm:us-east-1:123456789012:certificate/x"], "needs --domain-name"),
        (["up", "--spot", "on", "--arch", "arm64"], "x86_64 tasks only"),
        (["up", "--storage", "100", "--max-storage", "105"], "at least 10 % above"),
        (["up", "--alb", "off", "--waf", "on"], "need the load balancer"),
        (["up", "--max-count", "10", "--database", "on"], "connection budget exceeded"),
        (["up", "--desired-count", "5", "--max-count", "4"], "<= --max-count"),
        (["sideways"], "unknown argument"),
    ):
        result = subprocess.run([str(DEPLOY), *args], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
    help_text = subprocess.run([str(DEPLOY), "--help"], env=env, capture_output=True, text=True, timeout=30)
    assert help_text.returncode == 0 and "up|status|down" in help_text.stdout
    assert ("CloudFront refuses WebDAV's methods (PROPFIND, REPORT, ...): calendar apps (CalDAV) need "
            "--domain-name and --certificate-arn") in " ".join(help_text.stdout.split())
