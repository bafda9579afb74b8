"""deploy/deploy.sh over the life of a deployment, against moto (a fresh emulated account).

What a real account does on the first and every later run, and what test_deploy_moto.py does
not cover: the first `up` in an account without the ECS service-linked role; the Availability
Zones it picks; options and the running task count kept by a plain `up`; max_connections
waiting for a reboot; stacks left in ROLLBACK_COMPLETE, UPDATE_ROLLBACK_FAILED or still in
progress; every prerequisite checked before anything is created; the image built with the
revision and the architecture; and the stopped tasks' reasons in the output.

moto cannot fail a stack on its own; tests/infra/moto_server.py has a tag that puts a stack into
a given state, standing in for the earlier failure (see its docstring).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_deploy_moto import (  # noqa: F401  (fixtures: one fresh moto server for this module)
    COMMAND_TIMEOUT,
    DEPLOY,
    MANIFEST,
    REGION,
    ROOT,
    SECRET_GETATT,
    aws,
    endpoint,
    env,
    outputs,
    stack_status,
)


def templates_for(aws, tmp_path, prefix):
    """Copies of the templates, with the RDS-managed secret replaced (see test_deploy_moto)."""
    secret_arn = aws("secretsmanager").create_secret(
        Name=f"rds!{prefix}", SecretString=json.dumps({"username": "todo_admin", "password": "x"})
    )["ARN"]
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "deploy", templates)
    database_yaml = templates / "database.yaml"
    database_yaml.write_text(database_yaml.read_text().replace(SECRET_GETATT, f"'{secret_arn}'"))
    return templates


def run(env, templates, *args, path=None, extra_env=None, timeout=COMMAND_TIMEOUT, script=DEPLOY, stdin=None):
    environment = {**env, "TODO_DEPLOY_TEMPLATE_DIR": str(templates), "TODO_DEPLOY_POLL_SECONDS": "1"}
    if path is not None:
        environment["PATH"] = path
    environment.update(extra_env or {})
    result = subprocess.run([str(script), *args], env=environment, capture_output=True, text=True,
                            timeout=timeout, stdin=stdin)
    return result.returncode, result.stdout + result.stderr


def ok(env, templates, *args, **kwargs):
    code, out = run(env, templates, *args, **kwargs)
    assert code == 0, f"deploy.sh {' '.join(args)} failed:\n{out}"
    return out


def failed(env, templates, *args, **kwargs):
    code, out = run(env, templates, *args, **kwargs)
    assert code != 0, f"deploy.sh {' '.join(args)} should have failed:\n{out}"
    return out


def parameters(aws, stack):
    desc = aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in desc.get("Parameters", [])}


def subnet_zones(aws, stack):
    net = outputs(aws, stack)
    ids = net["PublicSubnets"].split(",") + net["PrivateSubnets"].split(",")
    subnets = aws("ec2").describe_subnets(SubnetIds=ids)["Subnets"]
    return sorted({s["AvailabilityZone"] for s in subnets})


def service(aws, prefix):
    svc = outputs(aws, f"{prefix}-service")
    return aws("ecs").describe_services(cluster=svc["ClusterName"], services=[svc["ServiceName"]])["services"][0]


def test_first_deployment_and_every_run_after(env, aws, tmp_path):
    prefix = "life"
    templates = templates_for(aws, tmp_path, prefix)
    base = ["--stack-name", prefix, "--region", REGION, "--no-smoke"]

    # A fresh account: no ECS service-linked role yet.
    roles = {r["RoleName"] for r in aws("iam").list_roles()["Roles"]}
    assert "AWSServiceRoleForECS" not in roles

    # 1. First up, with an image not pushed yet: the roles and the network come first, and
    #    the zones offer both Fargate and the instance class (db.m5.large: d, e, f in moto's
    #    answer; e is use1-az3, which has no Fargate).
    out = failed(env, templates, "up", *base, "--skip-build", "--image-tag", "rev1",
                 "--alb", "off", "--db-instance-class", "db.m5.large", "--max-count", "3", "--pool-size", "5")
    assert "image tag 'rev1' is not in repository" in out
    role = aws("iam").get_role(RoleName="AWSServiceRoleForECS")["Role"]
    assert role["Path"] == "/aws-service-role/ecs.amazonaws.com/"
    assert subnet_zones(aws, f"{prefix}-network") == ["us-east-1d", "us-east-1f"]
    assert "Availability Zones: us-east-1d,us-east-1f" in out

    # 2. Deploy for real; the role exists now, and "already exists" is no error.
    for tag in ("rev1", "rev2", "rev3"):
        aws("ecr").put_image(repositoryName=prefix, imageTag=tag, imageManifest=MANIFEST)
    out = ok(env, templates, "up", *base, "--skip-build", "--image-tag", "rev1", "--alb", "off",
             "--db-instance-class", "db.m5.large", "--max-count", "3", "--pool-size", "5",
             "--deletion-protection", "off")
    assert "creating the service-linked role AWSServiceRoleForECS" not in out
    assert service(aws, prefix)["desiredCount"] == 2

    # 3. Auto scaling moves the service to 3 tasks; a plain `up` of a new revision keeps them,
    #    and every option: no load balancer, the larger instance, the pool.
    svc = outputs(aws, f"{prefix}-service")
    aws("ecs").update_service(cluster=svc["ClusterName"], service=svc["ServiceName"], desiredCount=3)
    out = ok(env, templates, "up", *base, "--skip-build", "--image-tag", "rev2")
    assert "keeping 3 running tasks" in out
    assert service(aws, prefix)["desiredCount"] == 3
    service_parameters = parameters(aws, f"{prefix}-service")
    assert service_parameters["ImageTag"] == "rev2"
    assert service_parameters["EnableLoadBalancer"] == "false"
    assert (service_parameters["MaxCount"], service_parameters["DatabasePoolSize"]) == ("3", "5")
    assert service_parameters["DatabaseHost"]  # still on the database
    assert parameters(aws, f"{prefix}-database")["DBInstanceClass"] == "db.m5.large"
    assert parameters(aws, f"{prefix}-database")["DeletionProtection"] == "false"
    assert subnet_zones(aws, f"{prefix}-network") == ["us-east-1d", "us-east-1f"]

    # Kept within the bounds: a lower maximum lowers the count.
    out = ok(env, templates, "up", *base, "--skip-build", "--image-tag", "rev2", "--max-count", "2")
    assert service(aws, prefix)["desiredCount"] == 2
    assert parameters(aws, f"{prefix}-service")["MaxCount"] == "2"

    # 4. status shows the options the stacks run with.
    out = ok(env, templates, "status", "--stack-name", prefix, "--region", REGION)
    assert "--alb off" in out and "--db-instance-class db.m5.large" in out and "--max-count 2" in out

    # 5. max_connections is static: a higher value is pending until a reboot, so the budget is
    #    checked against the running one.
    out = failed(env, templates, "up", *base, "--skip-build", "--image-tag", "rev3",
                 "--max-connections", "200", "--max-count", "8", "--pool-size", "10")
    assert "pending until the database reboots" in out and "connection budget exceeded" in out
    assert parameters(aws, f"{prefix}-database")["MaxConnections"] == "100"

    # 6. The PostgreSQL log group has a retention.
    instance = outputs(aws, f"{prefix}-database")["InstanceId"]
    group_name = f"/aws/rds/instance/{instance}/postgresql"
    (group,) = aws("logs").describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
    assert group["retentionInDays"] == 30

    # 7. Why tasks stopped shows in status (and in a failed deployment's output).
    svc = outputs(aws, f"{prefix}-service")
    ecs = aws("ecs")
    # moto cannot run the stack's task definition (it sums container memory, and ours is set on
    # the task): a stand-in revision with container memory runs in the same cluster.
    task_definition = ecs.register_task_definition(
        family=f"{prefix}-standin", containerDefinitions=[{"name": "app", "image": "todo", "memory": 512}]
    )["taskDefinition"]["taskDefinitionArn"]
    (task,) = ecs.run_task(cluster=svc["ClusterName"], taskDefinition=task_definition, startedBy="ecs-svc/1",
                           count=1, launchType="FARGATE")["tasks"]
    ecs.stop_task(cluster=svc["ClusterName"], task=task["taskArn"],
                  reason="CannotPullContainerError: pull access denied for the image")
    out = ok(env, templates, "status", "--stack-name", prefix, "--region", REGION)
    assert "Recently stopped tasks" in out
    assert "CannotPullContainerError: pull access denied" in out

    # 8. down needs no options, and removes the PostgreSQL log group.
    code, out = run(env, templates, "down", "--yes", "--stack-name", prefix, "--region", REGION)
    assert stack_status(aws, f"{prefix}-service") == "NONE"
    assert stack_status(aws, f"{prefix}-database") == "NONE"
    assert not aws("logs").describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
    assert code == 0 or "DependencyViolation" in out, out  # moto's VPC deletion, see test_deploy_moto


def test_stacks_left_by_an_earlier_failure(env, aws, tmp_path):
    cfn = aws("cloudformation")
    templates = templates_for(aws, tmp_path, "stuck")
    # What a failed create leaves behind holds no resources; the template of the stand-in holds
    # none either (moto could not delete a VPC again, see test_deploy_moto).
    network = "Resources:\n  Nothing:\n    Type: 'AWS::CloudFormation::WaitConditionHandle'\n"

    def create(name, body, status, **params):
        cfn.create_stack(StackName=name, TemplateBody=body,
                         Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
                         Tags=[{"Key": "moto-test-status", "Value": status}])

    # A first create that failed and rolled back: deleted and created again.
    create("stuck-a-network", network, "ROLLBACK_COMPLETE")
    old_id = cfn.describe_stacks(StackName="stuck-a-network")["Stacks"][0]["StackId"]
    out = failed(env, templates, "up", "--stack-name", "stuck-a", "--region", REGION, "--database", "off",
                 "--skip-build", "--no-smoke", "--image-tag", "rev1")
    assert "ROLLBACK_COMPLETE" in out and "deleting it to create it again" in out
    assert "image tag 'rev1' is not in repository" in out  # it went on to the registry and the image
    assert stack_status(aws, "stuck-a-network") == "CREATE_COMPLETE"
    assert cfn.describe_stacks(StackName="stuck-a-network")["Stacks"][0]["StackId"] != old_id
    assert outputs(aws, "stuck-a-network")["VpcId"]  # the real network template this time

    # An update that could not be rolled back: explained, with the command to continue.
    create("stuck-b-network", network, "UPDATE_ROLLBACK_FAILED")
    out = failed(env, templates, "up", "--stack-name", "stuck-b", "--region", REGION, "--database", "off",
                 "--skip-build", "--no-smoke", "--image-tag", "rev1")
    assert "UPDATE_ROLLBACK_FAILED" in out
    assert "aws cloudformation continue-update-rollback --region us-east-1 --stack-name stuck-b-network" in out
    assert stack_status(aws, "stuck-b-registry") == "NONE"  # nothing created after it

    # Another operation still running: wait for it, then go on.
    create("stuck-c-network", network, "UPDATE_IN_PROGRESS>UPDATE_COMPLETE@manual")
    process = subprocess.Popen(
        [str(DEPLOY), "up", "--stack-name", "stuck-c", "--region", REGION, "--database", "off",
         "--skip-build", "--no-smoke", "--image-tag", "rev1"],
        env={**env, "TODO_DEPLOY_TEMPLATE_DIR": str(templates), "TODO_DEPLOY_POLL_SECONDS": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "stack stuck-c-network is UPDATE_IN_PROGRESS; waiting" in line:
            break
    assert stack_status(aws, "stuck-c-registry") == "NONE"  # still waiting, nothing else created
    cfn.set_stack_policy(StackName="stuck-c-network", StackPolicyBody="{}")  # the operation ends
    out = "".join(seen) + process.communicate(timeout=COMMAND_TIMEOUT)[0]
    assert process.returncode != 0
    assert "stack stuck-c-network is UPDATE_IN_PROGRESS; waiting" in out
    assert "image tag 'rev1' is not in repository" in out
    assert stack_status(aws, "stuck-c-registry") == "CREATE_COMPLETE"


def tool_dir(tmp_path, leave_out):
    """A PATH with the tools deploy.sh may use, less some."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "awk", "sed", "tr", "date", "git", "sort", "cat", "dirname", "mktemp", "head",
                 "grep", "rm", "env", "sleep", "od", "python3", "aws", "curl", "docker"):
        if tool in leave_out:
            continue
        found = shutil.which(tool, path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
        if found:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


@pytest.mark.parametrize("missing,message,args", [
    ("docker", "Docker is not installed", []),
    ("curl", "curl is needed for the smoke test", ["--skip-build"]),
])
def test_prerequisites_before_anything_is_created(env, aws, tmp_path, missing, message, args):
    prefix = f"pre-{missing}"
    templates = templates_for(aws, tmp_path, prefix)
    out = failed(env, templates, "up", "--stack-name", prefix, "--region", REGION, "--image-tag", "rev1", *args,
                 path=tool_dir(tmp_path, {missing}))
    assert message in out
    for stack in ("network", "registry", "database", "service"):
        assert stack_status(aws, f"{prefix}-{stack}") == "NONE", stack
    assert "deploying stack" not in out and "creating the service-linked role" not in out


FAKE_DOCKER = """#!/usr/bin/env bash
# Records each call; `push` stores a manifest in the (emulated) registry, as a real push would.
printf '%s\\n' "$*" >> "$FAKE_DOCKER_LOG"
case $1 in
  push)
    ref=${2#*/}
    aws --endpoint-url "$AWS_ENDPOINT_URL" ecr put-image --repository-name "${ref%%:*}" \\
      --image-tag "${ref##*:}" --image-manifest "$FAKE_DOCKER_MANIFEST" >/dev/null ;;
  login) cat >/dev/null ;;
esac
"""


def test_image_built_with_revision_and_architecture(env, aws, tmp_path):
    prefix = "arm"
    templates = templates_for(aws, tmp_path, prefix)
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "docker").write_text(FAKE_DOCKER)
    (fake / "docker").chmod(0o755)
    log = tmp_path / "docker.log"
    ok(env, templates, "up", "--stack-name", prefix, "--region", REGION, "--database", "off", "--alb", "off",
       "--arch", "arm64", "--image-tag", "rev-arm", "--no-smoke",
       path=f"{fake}{os.pathsep}{env['PATH']}",
       extra_env={"FAKE_DOCKER_LOG": str(log), "FAKE_DOCKER_MANIFEST": MANIFEST})
    calls = log.read_text().splitlines()
    build = next(c for c in calls if c.startswith("build "))
    assert "--platform linux/arm64" in build and "--build-arg GIT_REVISION=rev-arm" in build
    assert any(c.startswith("push ") and c.endswith(":rev-arm") for c in calls)
    assert parameters(aws, f"{prefix}-service")["CpuArchitecture"] == "ARM64"
    assert parameters(aws, f"{prefix}-service")["EnableSpot"] == "false"
    # A second up finds the image and builds nothing.
    log.write_text("")
    ok(env, templates, "up", "--stack-name", prefix, "--region", REGION, "--image-tag", "rev-arm", "--no-smoke",
       path=f"{fake}{os.pathsep}{env['PATH']}",
       extra_env={"FAKE_DOCKER_LOG": str(log), "FAKE_DOCKER_MANIFEST": MANIFEST})
    assert not [c for c in log.read_text().splitlines() if c.startswith("build ")]
    assert parameters(aws, f"{prefix}-service")["CpuArchitecture"] == "ARM64"  # remembered
