"""deploy/deploy.sh where a real deployment goes wrong, each against moto (a fresh emulated account).

One test per failure that cfn-lint, checkov and a plain deployment cannot show: a stack left in
REVIEW_IN_PROGRESS, an AWS error that is not "does not exist", an AWS CLI pager waiting for a
key, a page of events larger than a pipe holds, an image of the wrong architecture, the failure output of a first create that rolls back,
`down` at a terminal and of a protected database, a certificate or DNS record that would fail
late, and a template above the inline limit. moto's stand-ins for what it cannot do by itself are in moto_server.py.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from test_deploy_lifecycle import failed, ok, parameters, run, templates_for
from test_deploy_moto import (  # noqa: F401  (fixtures: one fresh moto server for this module)
    DEPLOY,
    MANIFEST,
    REGION,
    ROOT,
    aws,
    endpoint,
    env,
    outputs,
    stack_status,
)

NOTHING = "Resources:\n  Nothing:\n    Type: 'AWS::CloudFormation::WaitConditionHandle'\n"


def test_review_in_progress_is_no_stack(env, aws, tmp_path):
    """A first change set never executed (Ctrl-C, or it failed) leaves REVIEW_IN_PROGRESS, which
    nothing ends: deleted and created again, not waited for (an hour)."""
    templates = templates_for(aws, tmp_path, "review")
    aws("cloudformation").create_stack(StackName="review-network", TemplateBody=NOTHING,
                                       Tags=[{"Key": "moto-test-status", "Value": "REVIEW_IN_PROGRESS"}])
    code, out = run(env, templates, "up", "--stack-name", "review", "--region", REGION, "--database", "off",
                    "--skip-build", "--no-smoke", "--image-tag", "rev1", timeout=240)
    assert code != 0 and "image tag 'rev1' is not in repository" in out, out  # it went on
    assert "REVIEW_IN_PROGRESS" in out and "waiting for it to finish" not in out
    assert stack_status(aws, "review-network") == "CREATE_COMPLETE"
    assert outputs(aws, "review-network")["VpcId"]


FAILING_AWS = """#!/usr/bin/env bash
# The AWS CLI, except that reading one stack fails as throttling or an expired session does.
for arg in "$@"; do
  if [[ $arg == "$FAIL_STACK" ]]; then
    echo "An error occurred (Throttling) when calling the DescribeStacks operation (reached max retries: 2): Rate exceeded" >&2
    exit 255
  fi
done
exec "$REAL_AWS" "$@"
"""


def test_aws_errors_are_not_read_as_no_stack(env, aws, tmp_path):
    """Only "does not exist" means no stack; throttling must stop with AWS's message, or the
    deployed options are dropped (an --alb off deployment would get a load balancer)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "aws").write_text(FAILING_AWS)
    (fake / "aws").chmod(0o755)
    extra = {"FAIL_STACK": "throttled-service", "REAL_AWS": shutil.which("aws", path=env["PATH"])}
    path = f"{fake}{os.pathsep}{env['PATH']}"
    code, out = run(env, tmp_path, "status", "--stack-name", "throttled", "--region", REGION, path=path,
                    extra_env=extra)
    assert code != 0, out
    assert "could not read the state of stack throttled-service" in out and "Rate exceeded" in out
    code, out = run(env, tmp_path, "up", "--stack-name", "throttled", "--region", REGION, "--skip-build",
                    "--no-smoke", "--image-tag", "rev1", path=path, extra_env=extra)
    assert code != 0 and "Rate exceeded" in out, out
    assert "deploying stack" not in out
    for stack in ("network", "registry"):
        assert stack_status(aws, f"throttled-{stack}") == "NONE"


RECORDING_AWS = """#!/usr/bin/env bash
# The AWS CLI, recording the pager setting each call runs with.
printf '%s\\n' "${AWS_PAGER-unset}" >> "$PAGER_LOG"
exec "$REAL_AWS" "$@"
"""


def test_no_aws_call_can_stop_at_a_pager(env, aws, tmp_path):
    """AWS CLI v2 pipes long output through a pager (less), which would stop the script at a
    prompt: every call runs with AWS_PAGER empty, whatever the caller's environment says."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "aws").write_text(RECORDING_AWS)
    (fake / "aws").chmod(0o755)
    log = tmp_path / "pager.log"
    extra = {"AWS_PAGER": "less", "PAGER_LOG": str(log), "REAL_AWS": shutil.which("aws", path=env["PATH"])}
    code, out = run(env, tmp_path, "status", "--stack-name", "pager", "--region", REGION,
                    path=f"{fake}{os.pathsep}{env['PATH']}", extra_env=extra)
    assert code == 0, out
    calls = log.read_text().splitlines()
    assert len(calls) >= 5 and set(calls) == {""}, calls  # the identity, then the four stacks


def test_down_asks_at_a_terminal(env, aws, tmp_path):
    """At a terminal `down` lists what it deletes and goes on only after a "y"."""
    aws("cloudformation").create_stack(StackName="ask-network", TemplateBody=NOTHING)

    def down(answer):
        controller, terminal = pty.openpty()
        os.write(controller, answer.encode() + b"\n")
        try:
            return run(env, tmp_path, "down", "--stack-name", "ask", "--region", REGION, stdin=terminal)
        finally:
            os.close(terminal)
            os.close(controller)

    code, out = down("n")
    assert code != 0 and "down deletes the stacks ask-network in us-east-1" in out, out
    assert "Delete ask-network? [y/N]" in out and "stopped; nothing was deleted" in out
    assert stack_status(aws, "ask-network") == "CREATE_COMPLETE"
    code, out = down("y")
    assert code == 0 and "deleting stack ask-network" in out, out
    assert stack_status(aws, "ask-network") == "NONE"


LONG_HISTORY_AWS = """#!/usr/bin/env bash
# The AWS CLI, except that the events deploy.sh follows come with a long history of older events
# after them, as AWS answers for a stack that has been updated many times.
out=$("$REAL_AWS" "$@") || exit
printf '%s\\n' "$out"
case "$*" in *"StackEvents[].[EventId"*) cat "$OLDER_EVENTS" ;; esac
"""


def test_a_long_event_history_is_followed_to_the_end(env, aws, tmp_path):
    """A page of events is often more than a pipe holds. A reader that stops early (head) killed
    the writer with SIGPIPE, and with pipefail and set -e the script ended there without a word."""
    aws("cloudformation").create_stack(StackName="history-network", TemplateBody=NOTHING)
    older = tmp_path / "older-events.txt"
    older.write_text("".join(f"old-event-{i}\tUPDATE_COMPLETE\tAWS::EC2::VPC\tVpc\tvpc-0123456789abcdef0\tNone\n"
                             for i in range(4000)))
    assert older.stat().st_size > 4 * 65536  # several times a Linux pipe's buffer
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "aws").write_text(LONG_HISTORY_AWS)
    (fake / "aws").chmod(0o755)
    extra = {"OLDER_EVENTS": str(older), "REAL_AWS": shutil.which("aws", path=env["PATH"])}
    code, out = run(env, tmp_path, "down", "--yes", "--stack-name", "history", "--region", REGION,
                    path=f"{fake}{os.pathsep}{env['PATH']}", extra_env=extra)
    assert code == 0 and "deleted the service, database and network stacks" in out, (code, out)
    assert re.search(r"^ *\d+:\d\d  DELETE_COMPLETE +AWS::CloudFormation::Stack +history-network$", out, re.M), out
    assert "old-event" not in out and stack_status(aws, "history-network") == "NONE"


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


def checkout(tmp_path):
    """A clean git checkout of deploy/ (the image tag is its revision) with a Dockerfile."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "deploy", repo / "deploy")
    (repo / "Dockerfile").write_text("FROM scratch\n")
    for command in (["init", "-q"], ["add", "-A"],
                    ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "rev"]):
        subprocess.run(["git", *command], cwd=repo, check=True)
    revision = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=repo, check=True,
                              capture_output=True, text=True).stdout.strip()
    return repo, revision


def test_architecture_in_the_image_tag_and_templates_from_s3(env, aws, tmp_path):
    """`up` then `up --arch arm64` on one commit builds an arm64 image instead of running the
    x86_64 one. The service template is padded beyond the 51,200 bytes CloudFormation takes
    inline, so this also shows that templates go through the registry's bucket."""
    prefix = "archs"
    templates = templates_for(aws, tmp_path, prefix)
    service_yaml = templates / "service.yaml"
    service_yaml.write_text(service_yaml.read_text().replace(
        "Metadata:\n", "Metadata:\n  Padding: '" + "x" * 60_000 + "'\n", 1))
    assert service_yaml.stat().st_size > 51_200
    repo, revision = checkout(tmp_path)
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "docker").write_text(FAKE_DOCKER)
    (fake / "docker").chmod(0o755)
    log = tmp_path / "docker.log"
    extra = {"FAKE_DOCKER_LOG": str(log), "FAKE_DOCKER_MANIFEST": MANIFEST}
    path = f"{fake}{os.pathsep}{env['PATH']}"
    deploy = repo / "deploy" / "deploy.sh"

    def up(*args):
        code, out = run(env, templates, "up", "--stack-name", prefix, "--region", REGION, "--no-smoke", *args,
                        path=path, extra_env=extra, script=deploy)
        assert code == 0, out
        return out

    up("--database", "off", "--alb", "off", "--arch", "x86_64")
    builds = [c for c in log.read_text().splitlines() if c.startswith("build ")]
    assert len(builds) == 1 and "--platform linux/amd64" in builds[0], builds
    assert f"-t 123456789012.dkr.ecr.us-east-1.amazonaws.com/{prefix}:{revision}-x86_64" in builds[0]
    assert f"--build-arg GIT_REVISION={revision} " in builds[0]
    assert parameters(aws, f"{prefix}-service")["ImageTag"] == f"{revision}-x86_64"

    log.write_text("")
    up("--arch", "arm64")
    builds = [c for c in log.read_text().splitlines() if c.startswith("build ")]
    assert len(builds) == 1 and "--platform linux/arm64" in builds[0], builds
    service = parameters(aws, f"{prefix}-service")
    assert (service["ImageTag"], service["CpuArchitecture"]) == (f"{revision}-arm64", "ARM64")
    # The templates went through the bucket of the registry stack.
    bucket = outputs(aws, f"{prefix}-registry")["TemplateBucket"]
    keys = [o["Key"] for o in aws("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert any(k.startswith(f"templates/{prefix}-service/") for k in keys), keys


def test_failure_output_collected_while_in_progress(env, aws, tmp_path):
    """A failing first create rolls back and deletes the cluster: what ECS said (the stopped
    task's reason) must be collected while the stack is still in progress."""
    prefix = "crash"
    templates = templates_for(aws, tmp_path, prefix)
    base = ["up", "--stack-name", prefix, "--region", REGION, "--database", "off", "--alb", "off",
            "--skip-build", "--no-smoke", "--image-tag", "moto-fail-1"]
    failed(env, templates, *base)
    aws("ecr").put_image(repositoryName=prefix, imageTag="moto-fail-1", imageManifest=MANIFEST)
    code, out = run(env, templates, *base, extra_env={"TODO_DEPLOY_EVENT_POLL_SECONDS": "1"})
    assert code != 0, out
    assert stack_status(aws, f"{prefix}-service") == "ROLLBACK_COMPLETE"
    assert not [arn for arn in aws("ecs").list_clusters()["clusterArns"] if f"/{prefix}-" in arn]  # rolled back
    # Why the task stopped, though its cluster is gone; the progress lines; the reasons.
    assert "exec format error" in out and "what ECS said while the deployment ran" in out, out
    # Each event as it happens, with the time since `up` started: the resource's failure, then
    # the stack's rollback.
    failure = re.search(r"^ *\d+:\d\d  CREATE_FAILED +AWS::ECS::Service +Service  .*ECS Deployment Circuit Breaker "
                        r"was triggered", out, re.M)
    rollback = re.search(rf"^ *\d+:\d\d  ROLLBACK_COMPLETE +AWS::CloudFormation::Stack +{prefix}-service$", out, re.M)
    assert failure and rollback and failure.start() < rollback.start(), out


def test_down_turns_deletion_protection_off_after_confirmation(env, aws, tmp_path):
    prefix = "prot"
    templates = templates_for(aws, tmp_path, prefix)
    base = ["--stack-name", prefix, "--region", REGION, "--alb", "off", "--skip-build", "--no-smoke",
            "--image-tag", "rev1"]
    failed(env, templates, "up", *base)
    aws("ecr").put_image(repositoryName=prefix, imageTag="rev1", imageManifest=MANIFEST)
    ok(env, templates, "up", *base)  # deletion protection on, the default
    assert parameters(aws, f"{prefix}-database")["DeletionProtection"] == "true"
    instance = outputs(aws, f"{prefix}-database")["InstanceId"]
    # moto's CloudFormation drops the property; set it on the instance as RDS would have it.
    aws("rds").modify_db_instance(DBInstanceIdentifier=instance, DeletionProtection=True, ApplyImmediately=True)
    image_tag = parameters(aws, f"{prefix}-service")["ImageTag"]
    # Stands in for the final snapshot (moto's CloudFormation takes none on deletion).
    assert instance.startswith(f"{prefix}-database-")
    aws("rds").create_db_snapshot(DBSnapshotIdentifier=f"{prefix}-final", DBInstanceIdentifier=instance)

    # Not at a terminal and no --yes: nothing is deleted.
    code, out = run(env, templates, "down", "--stack-name", prefix, "--region", REGION, stdin=subprocess.DEVNULL)
    assert code != 0 and "pass --yes" in out, out
    assert stack_status(aws, f"{prefix}-database") == "CREATE_COMPLETE"

    code, out = run(env, templates, "down", "--yes", "--stack-name", prefix, "--region", REGION)
    # RDS refuses to delete a protected instance; moto does too, though its CloudFormation then
    # drops the stack anyway where AWS would leave it DELETE_FAILED: look at what it said.
    assert "Cannot delete protected DB Instance" not in out, out
    assert "turning off deletion protection" in out and "final snapshot" in out, out
    assert stack_status(aws, f"{prefix}-service") == "NONE"
    assert stack_status(aws, f"{prefix}-database") == "NONE"
    assert "deploying stack" not in out and image_tag == "rev1"  # no `up` on the way
    assert code == 0 or "DependencyViolation" in out, out  # moto's VPC deletion, see test_deploy_moto

    # Back from the newest snapshot of this deployment, with one flag.
    if stack_status(aws, f"{prefix}-network") != "NONE":
        aws("cloudformation").delete_stack(StackName=f"{prefix}-network")  # see above
    out = ok(env, templates, "up", *base, "--restore-snapshot", "latest")
    assert f"the database is created from snapshot {prefix}-final" in out
    assert parameters(aws, f"{prefix}-database")["SnapshotIdentifier"] == f"{prefix}-final"
    # A restore is for a new database only: on this one it would replace the instance.
    out = failed(env, templates, "up", *base, "--restore-snapshot", "latest")
    assert f"stack {prefix}-database exists: run 'down' first" in out


def self_signed(name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import datetime

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@pytest.mark.parametrize("case", ["other-name", "other-region", "pending", "cname-exists"])
def test_certificate_and_dns_checked_before_anything_is_created(env, aws, tmp_path, case):
    prefix = f"cert-{case}"
    domain = "todo.example.com"
    acm = aws("acm")
    if case == "other-name":
        body, key = self_signed("other.example.com")
        arn = acm.import_certificate(Certificate=body, PrivateKey=key)["CertificateArn"]
        message = "which does not cover todo.example.com"
    elif case == "pending":
        arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
        message = "is PENDING_VALIDATION, not ISSUED"
    else:
        body, key = self_signed(domain)
        arn = acm.import_certificate(Certificate=body, PrivateKey=key)["CertificateArn"]
        if case == "other-region":
            arn = arn.replace(":us-east-1:", ":eu-west-1:")
            message = "is in eu-west-1, but the load balancer is in us-east-1"
        else:
            message = "already has a CNAME record in hosted zone"
    args = ["up", "--stack-name", prefix, "--region", REGION, "--database", "off", "--skip-build", "--no-smoke",
            "--image-tag", "rev1", "--domain-name", domain, "--certificate-arn", arn]
    if case == "cname-exists":
        zone = aws("route53").create_hosted_zone(Name="example.com", CallerReference=prefix)["HostedZone"]["Id"]
        zone = zone.rsplit("/", 1)[-1]
        aws("route53").change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
            "Action": "CREATE", "ResourceRecordSet": {
                "Name": domain, "Type": "CNAME", "TTL": 300,
                "ResourceRecords": [{"Value": "old-lb-123.us-east-1.elb.amazonaws.com"}]}}]})
        args += ["--hosted-zone-id", zone]
    code, out = run(env, tmp_path, *args)
    assert code != 0 and message in out, out
    assert "deploying stack" not in out
    for stack in ("network", "registry", "service"):
        assert stack_status(aws, f"{prefix}-{stack}") == "NONE"
