#!/usr/bin/env bash
# One-command deployment of todo-app to AWS (ECS Fargate, optional ALB, optional RDS).
#
#   deploy/deploy.sh up       build, push, deploy or update the stacks, wait, smoke test, print URL
#   deploy/deploy.sh status   show the stacks, the service and the URL
#   deploy/deploy.sh down     delete the stacks; keeps the image repository and a database snapshot
#
# It drives four CloudFormation stacks, named after --stack-name (default todo-app):
#   PREFIX-network   VPC, subnets, routes                      (skipped with --vpc-id)
#   PREFIX-registry  ECR repository                            (kept by `down`)
#   PREFIX-database  RDS PostgreSQL, secret, client group      (with --database on)
#   PREFIX-service   ECS cluster/service, ALB, IAM, scaling, alarms, dashboard
#
# `up` is idempotent: the image is tagged with the git revision and not rebuilt when that tag
# is already in the repository (tags are immutable), and `aws cloudformation deploy` skips
# stacks whose template and parameters are unchanged. Options are not remembered between runs:
# pass the same options again, or the defaults apply.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# The tests deploy copies of the templates (see tests/infra/); everyone else uses these.
TEMPLATE_DIR=${TODO_DEPLOY_TEMPLATE_DIR:-$SCRIPT_DIR}

usage() {
  cat <<'EOF'
Usage: deploy/deploy.sh up|status|down [options]

Commands:
  up        Create the image repository if needed, build and push the image tagged with the
            git revision, deploy or update the stacks, wait for them, smoke test the URL and
            print it.
  status    Show the state of the stacks, the running/desired task counts and the URL.
  down      Delete the service, database and network stacks. Keeps the image repository and
            its images, and RDS keeps a final snapshot of the database.

Options (defaults in brackets):
  --region REGION            AWS region [AWS_REGION, AWS_DEFAULT_REGION, or the CLI profile's]
  --stack-name PREFIX        prefix of the stack names and the repository name [todo-app]
  --alb on|off               internet-facing Application Load Balancer [on]
  --certificate-arn ARN      ACM certificate: HTTPS on 443, HTTP redirects to it [none]
  --database on|off          RDS PostgreSQL; off runs SQLite inside each task [on]
  --desired-count N          tasks after the deployment [2]
  --min-count N              fewest tasks auto scaling keeps [2, or desired count if lower]
  --max-count N              most tasks auto scaling starts [4]
  --pool-size N              database connections per task (DB_POOL_SIZE) [10]
  --db-instance-class CLASS  RDS instance class [db.t4g.micro]
  --max-connections N        PostgreSQL max_connections [100]
  --multi-az on|off          RDS standby in the second Availability Zone [off]
  --deletion-protection on|off
                             refuse to delete the database [on]; `down` needs it off
  --exec on|off              allow ECS Exec into the tasks [off]
  --alarm-topic-arn ARN      SNS topic for the CloudWatch alarms [none]
  --vpc-id ID                use an existing VPC instead of creating PREFIX-network; needs:
  --public-subnets A,B       two public subnets (with an internet gateway route)
  --private-subnets A,B      two private subnets (for the database)
  --image-tag TAG            image tag to deploy [the git revision, -dirty.TIME if modified]
  --skip-build               do not build or push; deploy --image-tag (or the git revision),
                             which must already be in the repository
  --no-smoke                 skip the smoke test after `up`
  -h, --help                 show this help

Environment:
  AWS_PROFILE, AWS_ACCESS_KEY_ID, ...   credentials, as for the AWS CLI
  AWS_ENDPOINT_URL                      send every AWS call to this endpoint (used by the tests)

Examples:
  deploy/deploy.sh up --region eu-west-1
  deploy/deploy.sh up --database off --alb off --desired-count 1
  deploy/deploy.sh up --deletion-protection off && deploy/deploy.sh down
EOF
}

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------
COMMAND=""
REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
PREFIX=todo-app
ALB=on
CERTIFICATE_ARN=""
DATABASE=on
DESIRED_COUNT=2
MIN_COUNT=""
MAX_COUNT=4
POOL_SIZE=10
DB_INSTANCE_CLASS=db.t4g.micro
MAX_CONNECTIONS=100
MULTI_AZ=off
DELETION_PROTECTION=on
EXEC=off
ALARM_TOPIC_ARN=""
VPC_ID=""
PUBLIC_SUBNETS=""
PRIVATE_SUBNETS=""
IMAGE_TAG=""
SKIP_BUILD=0
SMOKE=1

need_value() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
on_off() { [[ $2 == on || $2 == off ]] || die "option $1 takes on or off, not '$2'"; }
count() { [[ $2 =~ ^[1-9][0-9]*$ && $2 -le 10 ]] || die "option $1 takes a whole number from 1 to 10, not '$2'"; }

while [[ $# -gt 0 ]]; do
  case $1 in
    up | down | status)
      [[ -z $COMMAND ]] || die "one command at a time ($COMMAND and $1 given)"
      COMMAND=$1; shift ;;
    -h | --help) usage; exit 0 ;;
    --region) need_value "$@"; REGION=$2; shift 2 ;;
    --stack-name) need_value "$@"; PREFIX=$2; shift 2 ;;
    --alb) need_value "$@"; on_off "$1" "$2"; ALB=$2; shift 2 ;;
    --certificate-arn) need_value "$@"; CERTIFICATE_ARN=$2; shift 2 ;;
    --database) need_value "$@"; on_off "$1" "$2"; DATABASE=$2; shift 2 ;;
    --desired-count) need_value "$@"; count "$1" "$2"; DESIRED_COUNT=$2; shift 2 ;;
    --min-count) need_value "$@"; count "$1" "$2"; MIN_COUNT=$2; shift 2 ;;
    --max-count) need_value "$@"; count "$1" "$2"; MAX_COUNT=$2; shift 2 ;;
    --pool-size) need_value "$@"; [[ $2 =~ ^[1-9][0-9]*$ ]] || die "--pool-size takes a positive number"; POOL_SIZE=$2; shift 2 ;;
    --db-instance-class) need_value "$@"; DB_INSTANCE_CLASS=$2; shift 2 ;;
    --max-connections) need_value "$@"; [[ $2 =~ ^[1-9][0-9]*$ ]] || die "--max-connections takes a positive number"; MAX_CONNECTIONS=$2; shift 2 ;;
    --multi-az) need_value "$@"; on_off "$1" "$2"; MULTI_AZ=$2; shift 2 ;;
    --deletion-protection) need_value "$@"; on_off "$1" "$2"; DELETION_PROTECTION=$2; shift 2 ;;
    --exec) need_value "$@"; on_off "$1" "$2"; EXEC=$2; shift 2 ;;
    --alarm-topic-arn) need_value "$@"; ALARM_TOPIC_ARN=$2; shift 2 ;;
    --vpc-id) need_value "$@"; VPC_ID=$2; shift 2 ;;
    --public-subnets) need_value "$@"; PUBLIC_SUBNETS=$2; shift 2 ;;
    --private-subnets) need_value "$@"; PRIVATE_SUBNETS=$2; shift 2 ;;
    --image-tag) need_value "$@"; IMAGE_TAG=$2; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --no-smoke) SMOKE=0; shift ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n $COMMAND ]] || { usage >&2; exit 2; }
[[ $PREFIX =~ ^[a-z][a-z0-9-]{0,30}$ ]] ||
  die "--stack-name must start with a lower-case letter and hold only a-z, 0-9 and - (at most 31)"
[[ -n $MIN_COUNT ]] || MIN_COUNT=$((DESIRED_COUNT < 2 ? DESIRED_COUNT : 2))
tf() { [[ $1 == on ]] && echo true || echo false; }

NETWORK_STACK=$PREFIX-network
REGISTRY_STACK=$PREFIX-registry
DATABASE_STACK=$PREFIX-database
SERVICE_STACK=$PREFIX-service
REPOSITORY_NAME=$PREFIX

# --------------------------------------------------------------------------------------------
# AWS access
# --------------------------------------------------------------------------------------------
command -v aws >/dev/null 2>&1 ||
  die "the AWS CLI is not installed: see https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
if [[ -z $REGION ]]; then
  REGION=$(aws configure get region 2>/dev/null || true)
  [[ -n $REGION ]] || die "no AWS region: pass --region, set AWS_REGION, or run 'aws configure'"
fi

# Every AWS call goes through here: one region, and the test endpoint when there is one
# (older CLIs ignore the AWS_ENDPOINT_URL variable, so it is passed explicitly).
awsc() {
  local endpoint=()
  [[ -n ${AWS_ENDPOINT_URL:-} ]] && endpoint=(--endpoint-url "$AWS_ENDPOINT_URL")
  aws --region "$REGION" "${endpoint[@]}" "$@"
}

check_credentials() {
  local out
  if ! out=$(awsc sts get-caller-identity --query Account --output text 2>&1); then
    die "no usable AWS credentials (${out//$'\n'/ }): run 'aws configure', 'aws sso login' or set AWS_PROFILE"
  fi
  log "AWS account $out, region $REGION"
}

stack_status() {
  awsc cloudformation describe-stacks --stack-name "$1" --query 'Stacks[0].StackStatus' --output text 2>/dev/null || echo NONE
}

stack_exists() {
  case $(stack_status "$1") in
    NONE | DELETE_COMPLETE | REVIEW_IN_PROGRESS) return 1 ;;
    *) return 0 ;;
  esac
}

output() {
  local value
  value=$(awsc cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue | [0]" --output text)
  [[ $value != None ]] || value=""
  printf '%s' "$value"
}

# Explain a failed deployment with the reasons CloudFormation recorded.
show_failures() {
  warn "stack $1 failed; the latest errors:"
  awsc cloudformation describe-stack-events --stack-name "$1" --max-items 40 \
    --query "StackEvents[?contains(ResourceStatus, 'FAILED')].[LogicalResourceId, ResourceStatusReason]" \
    --output text >&2 || true
}

# deploy_stack NAME TEMPLATE [Key=Value ...]: create or update, wait, no-op when unchanged.
deploy_stack() {
  local name=$1 template=$2
  shift 2
  local params=()
  [[ $# -gt 0 ]] && params=(--parameter-overrides "$@")
  log "deploying stack $name"
  if ! awsc cloudformation deploy --stack-name "$name" --template-file "$TEMPLATE_DIR/$template" \
    --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
    --tags "project=todo-app" "deployment=$PREFIX" "${params[@]}" >&2; then
    show_failures "$name"
    die "deploying $name failed"
  fi
}

delete_stack() {
  local name=$1
  if ! stack_exists "$name"; then
    log "stack $name does not exist"
    return 0
  fi
  log "deleting stack $name"
  awsc cloudformation delete-stack --stack-name "$name"
  if ! awsc cloudformation wait stack-delete-complete --stack-name "$name"; then
    show_failures "$name"
    die "deleting $name failed"
  fi
}

# --------------------------------------------------------------------------------------------
# Image
# --------------------------------------------------------------------------------------------
git_tag() {
  local rev
  rev=$(git -C "$REPO_ROOT" rev-parse --short=12 HEAD 2>/dev/null) ||
    die "not a git checkout: pass --image-tag"
  # A modified tree is not that revision: give it its own tag, since tags cannot be overwritten.
  if [[ -n $(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
    rev="$rev-dirty.$(date -u +%Y%m%d%H%M%S)"
  fi
  printf '%s' "$rev"
}

image_exists() {
  awsc ecr describe-images --repository-name "$REPOSITORY_NAME" --image-ids "imageTag=$1" >/dev/null 2>&1
}

build_and_push() {
  local uri=$1 tag=$2
  if image_exists "$tag"; then
    log "image $uri:$tag is already in the repository; not rebuilding"
    return 0
  fi
  [[ $SKIP_BUILD -eq 0 ]] ||
    die "image tag '$tag' is not in repository $REPOSITORY_NAME: push it first or drop --skip-build"
  command -v docker >/dev/null 2>&1 ||
    die "Docker is not installed: install it, or push the image yourself and use --skip-build --image-tag TAG"
  docker info >/dev/null 2>&1 ||
    die "the Docker daemon is not reachable: start it (or check your permissions to its socket)"
  log "building $uri:$tag"
  # Fargate tasks run on x86-64 (see RuntimePlatform in service.yaml), whatever builds the image.
  docker build --platform linux/amd64 -t "$uri:$tag" "$REPO_ROOT"
  log "pushing $uri:$tag"
  awsc ecr get-login-password | docker login --username AWS --password-stdin "${uri%%/*}"
  docker push "$uri:$tag"
}

# --------------------------------------------------------------------------------------------
# Service address and smoke test
# --------------------------------------------------------------------------------------------
# With the ALB the address is a stack output. Without it every task has its own public IP;
# this finds the first running one.
service_url() {
  local url cluster service tasks eni ip
  url=$(output "$SERVICE_STACK" Url)
  if [[ -n $url ]]; then
    printf '%s' "$url"
    return 0
  fi
  cluster=$(output "$SERVICE_STACK" ClusterName)
  service=$(output "$SERVICE_STACK" ServiceName)
  tasks=$(awsc ecs list-tasks --cluster "$cluster" --service-name "$service" \
    --desired-status RUNNING --query 'taskArns' --output text 2>/dev/null || true)
  [[ -n $tasks && $tasks != None ]] || return 0
  # shellcheck disable=SC2086 # one argument per task ARN
  eni=$(awsc ecs describe-tasks --cluster "$cluster" --tasks $tasks \
    --query "tasks[0].attachments[0].details[?name=='networkInterfaceId'].value | [0]" --output text 2>/dev/null || true)
  [[ -n $eni && $eni != None ]] || return 0
  ip=$(awsc ec2 describe-network-interfaces --network-interface-ids "$eni" \
    --query 'NetworkInterfaces[0].Association.PublicIp' --output text 2>/dev/null || true)
  [[ -n $ip && $ip != None ]] && printf 'http://%s:8080' "$ip"
  return 0
}

# health, create, list, delete: the whole path through the load balancer, the app and the
# database. Readiness is retried because a fresh ALB or DNS name takes a little while.
smoke_test() {
  local url=$1 title body id i
  command -v curl >/dev/null 2>&1 || die "curl is needed for the smoke test (or pass --no-smoke)"
  log "smoke test against $url"
  for ((i = 0; i < 30; i++)); do
    curl -fsS -o /dev/null --max-time 5 "$url/readyz" 2>/dev/null && break
    sleep 10
  done
  [[ $i -lt 30 ]] || die "smoke test: $url/readyz did not answer 200 within 5 minutes"
  curl -fsS --max-time 10 -o /dev/null "$url/healthz" || die "smoke test: GET /healthz failed"
  title="smoke test $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  body=$(curl -fsS --max-time 10 -H 'Content-Type: application/json' \
    -d "{\"title\":\"$title\"}" "$url/api/todos") || die "smoke test: POST /api/todos failed"
  id=$(printf '%s' "$body" | grep -o '"id":[0-9]*' | head -n1 | cut -d: -f2)
  [[ -n $id ]] || die "smoke test: POST /api/todos answered without an id: $body"
  curl -fsS --max-time 10 "$url/api/todos" | grep -qF "$title" ||
    die "smoke test: the new todo is missing from GET /api/todos"
  curl -fsS --max-time 10 -o /dev/null -X DELETE "$url/api/todos/$id" ||
    die "smoke test: DELETE /api/todos/$id failed"
  log "smoke test passed (health, create, list, delete)"
}

# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------
cmd_up() {
  local network_params=() public_subnets private_subnets vpc_id
  local db_host="" db_port=5432 db_name=todo db_secret="" db_group="" repository_uri url

  ((MIN_COUNT <= DESIRED_COUNT && DESIRED_COUNT <= MAX_COUNT)) ||
    die "need --min-count ($MIN_COUNT) <= --desired-count ($DESIRED_COUNT) <= --max-count ($MAX_COUNT)"
  # The connection budget: during a deployment up to twice the tasks run (MaximumPercent 200),
  # each with a full pool, and PostgreSQL keeps some connections for itself and for operators.
  if [[ $DATABASE == on ]] && ((MAX_COUNT * 2 * POOL_SIZE > MAX_CONNECTIONS - 10)); then
    die "connection budget exceeded: --max-count $MAX_COUNT x 2 x --pool-size $POOL_SIZE = $((MAX_COUNT * 2 * POOL_SIZE)) > --max-connections $MAX_CONNECTIONS - 10; lower the counts or the pool, or raise max_connections with a larger instance"
  fi
  if [[ -n $VPC_ID ]]; then
    [[ -n $PUBLIC_SUBNETS ]] || die "--vpc-id needs --public-subnets"
    [[ $DATABASE == off || -n $PRIVATE_SUBNETS ]] || die "--vpc-id with --database on needs --private-subnets"
  fi
  check_credentials

  # 1. Network (unless the caller brings their own).
  if [[ -n $VPC_ID ]]; then
    vpc_id=$VPC_ID public_subnets=$PUBLIC_SUBNETS private_subnets=$PRIVATE_SUBNETS
  else
    deploy_stack "$NETWORK_STACK" network.yaml "${network_params[@]}"
    vpc_id=$(output "$NETWORK_STACK" VpcId)
    public_subnets=$(output "$NETWORK_STACK" PublicSubnets)
    private_subnets=$(output "$NETWORK_STACK" PrivateSubnets)
  fi

  # 2. Registry, then the image in it.
  deploy_stack "$REGISTRY_STACK" registry.yaml "RepositoryName=$REPOSITORY_NAME"
  repository_uri=$(output "$REGISTRY_STACK" RepositoryUri)
  [[ -n $IMAGE_TAG ]] || IMAGE_TAG=$(git_tag)
  build_and_push "$repository_uri" "$IMAGE_TAG"

  # 3. Database.
  if [[ $DATABASE == on ]]; then
    deploy_stack "$DATABASE_STACK" database.yaml \
      "VpcId=$vpc_id" "SubnetIds=$private_subnets" \
      "DBInstanceClass=$DB_INSTANCE_CLASS" "MaxConnections=$MAX_CONNECTIONS" \
      "MultiAZ=$(tf "$MULTI_AZ")" "DeletionProtection=$(tf "$DELETION_PROTECTION")" \
      "AlarmTopicArn=$ALARM_TOPIC_ARN"
    db_host=$(output "$DATABASE_STACK" Host)
    db_port=$(output "$DATABASE_STACK" Port)
    db_name=$(output "$DATABASE_STACK" DBName)
    db_secret=$(output "$DATABASE_STACK" SecretArn)
    db_group=$(output "$DATABASE_STACK" ClientSecurityGroup)
  elif stack_exists "$DATABASE_STACK"; then
    warn "--database off: the service will use SQLite, but stack $DATABASE_STACK still exists (and costs money); 'down' deletes it"
  fi

  # 4. Service. CloudFormation waits until the ECS service is stable (all new tasks healthy),
  #    and the circuit breaker rolls back a deployment whose tasks never get healthy.
  deploy_stack "$SERVICE_STACK" service.yaml \
    "VpcId=$vpc_id" "PublicSubnetIds=$public_subnets" \
    "RepositoryName=$REPOSITORY_NAME" "ImageTag=$IMAGE_TAG" \
    "DesiredCount=$DESIRED_COUNT" "MinCount=$MIN_COUNT" "MaxCount=$MAX_COUNT" \
    "EnableLoadBalancer=$(tf "$ALB")" "CertificateArn=$CERTIFICATE_ARN" \
    "EnableExecuteCommand=$(tf "$EXEC")" \
    "DatabaseHost=$db_host" "DatabasePort=$db_port" "DatabaseName=$db_name" \
    "DatabaseSecretArn=$db_secret" "DatabaseClientSecurityGroup=$db_group" \
    "DatabasePoolSize=$POOL_SIZE" "AlarmTopicArn=$ALARM_TOPIC_ARN"

  url=$(service_url)
  if [[ $SMOKE -eq 1 ]]; then
    [[ -n $url ]] || die "no address found for the service to smoke test (see 'status')"
    smoke_test "$url"
  else
    log "smoke test skipped (--no-smoke)"
  fi
  log "deployed image $repository_uri:$IMAGE_TAG"
  log "logs: aws logs tail $(output "$SERVICE_STACK" LogGroupName) --follow --region $REGION"
  if [[ -n $url ]]; then
    log "the app is at: $url"
    printf '%s\n' "$url"
  else
    log "no address yet: without a load balancer each task has a public IP; run 'status' once tasks run"
  fi
}

cmd_status() {
  local stack cluster service
  check_credentials
  for stack in "$NETWORK_STACK" "$REGISTRY_STACK" "$DATABASE_STACK" "$SERVICE_STACK"; do
    printf '%-32s %s\n' "$stack" "$(stack_status "$stack")"
  done
  if stack_exists "$SERVICE_STACK"; then
    cluster=$(output "$SERVICE_STACK" ClusterName)
    service=$(output "$SERVICE_STACK" ServiceName)
    awsc ecs describe-services --cluster "$cluster" --services "$service" \
      --query 'services[0].{running:runningCount,desired:desiredCount,pending:pendingCount,rollout:deployments[0].rolloutState,taskDefinition:taskDefinition}' \
      --output table
    printf 'image: %s:%s\n' "$(output "$SERVICE_STACK" RepositoryUri)" "$(output "$SERVICE_STACK" ImageTag)"
    printf 'url:   %s\n' "$(service_url)"
    printf 'logs:  %s\n' "$(output "$SERVICE_STACK" LogGroupName)"
  fi
}

cmd_down() {
  local protected="" instance=""
  check_credentials
  # Fail before deleting anything when the database cannot be deleted.
  if stack_exists "$DATABASE_STACK"; then
    protected=$(awsc cloudformation describe-stacks --stack-name "$DATABASE_STACK" \
      --query "Stacks[0].Parameters[?ParameterKey=='DeletionProtection'].ParameterValue | [0]" --output text)
    instance=$(output "$DATABASE_STACK" InstanceId)
    [[ $protected != true ]] ||
      die "the database has deletion protection: run 'deploy/deploy.sh up --deletion-protection off' (with your other options) first, then 'down' again"
  fi
  delete_stack "$SERVICE_STACK"
  delete_stack "$DATABASE_STACK"
  if [[ -z $VPC_ID ]]; then
    delete_stack "$NETWORK_STACK"
  fi
  log "deleted the service, database and network stacks"
  log "kept: ECR repository $REPOSITORY_NAME with its images (stack $REGISTRY_STACK), to redeploy any revision later."
  log "      To remove it: aws ecr delete-repository --force --repository-name $REPOSITORY_NAME --region $REGION && aws cloudformation delete-stack --stack-name $REGISTRY_STACK --region $REGION"
  if [[ -n $instance ]]; then
    log "kept: a final snapshot of database $instance (DeletionPolicy Snapshot). List it with:"
    log "      aws rds describe-db-snapshots --db-instance-identifier $instance --region $REGION"
  fi
}

case $COMMAND in
  up) cmd_up ;;
  status) cmd_status ;;
  down) cmd_down ;;
esac
