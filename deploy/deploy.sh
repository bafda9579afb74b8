#!/usr/bin/env bash
# One-command deployment of todo-app to AWS (ECS Fargate, optional ALB, optional RDS).
#
#   deploy/deploy.sh up       build, push, deploy or update the stacks, wait, smoke test, print URL
#   deploy/deploy.sh status   show the stacks, the options they run with, the service and the URL
#   deploy/deploy.sh down     delete the stacks; keeps the image repository and a database snapshot
#
# It drives four CloudFormation stacks, named after --stack-name (default todo-app):
#   PREFIX-network   VPC, subnets, routes                      (skipped with --vpc-id)
#   PREFIX-registry  ECR repository, bucket for templates      (kept by `down`)
#   PREFIX-database  RDS PostgreSQL, secret, client group      (with --database on)
#   PREFIX-service   ECS cluster/service, ALB, IAM, scaling, alarms, dashboard
#
# `up` is idempotent: the image is tagged with the git revision and the architecture and not
# rebuilt when that tag is already in the repository (tags are immutable), and a stack whose
# template and parameters are unchanged is left alone. Options are remembered: every option not
# given defaults to what the deployed stacks have (their parameters), and the task count to
# what is running now (auto scaling may have changed it), so a plain `up` changes only the image.
#
# Runs with bash 3.2 (macOS) and later: no arrays (an empty "${a[@]}" is an unbound-variable
# error under set -u before bash 4.4), no bash 4 builtins or expansions.
#
# No pipe ends with a reader that stops early (head, awk's exit): the writer would die of
# SIGPIPE once its output outgrows the pipe's buffer, and with pipefail and set -e the script
# would end there without a word. Take the first line with ${text%%$'\n'*} instead.
set -euo pipefail

if [ -z "${BASH_VERSINFO:-}" ] || [ "${BASH_VERSINFO[0]}" -lt 3 ] ||
  { [ "${BASH_VERSINFO[0]}" -eq 3 ] && [ "${BASH_VERSINFO[1]}" -lt 2 ]; }; then
  echo "error: deploy.sh needs bash 3.2 or later (this is ${BASH_VERSION:-not bash})" >&2
  exit 1
fi

# The AWS CLI v2 pipes long output through a pager, which would stop a script at a prompt.
export AWS_PAGER=""

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
# The tests deploy copies of the templates (see tests/infra/); everyone else uses these.
TEMPLATE_DIR=${TODO_DEPLOY_TEMPLATE_DIR:-$SCRIPT_DIR}
# Seconds between two looks at a stack that another operation is still changing, and between
# two looks at the events of a stack this script is changing.
POLL_SECONDS=${TODO_DEPLOY_POLL_SECONDS:-15}
EVENT_POLL_SECONDS=${TODO_DEPLOY_EVENT_POLL_SECONDS:-5}

usage() {
  cat <<'EOF'
Usage: deploy/deploy.sh up|status|down [options]

Commands:
  up        Create the image repository if needed, build and push the image tagged with the
            git revision, deploy or update the stacks, wait for them, smoke test the URL and
            print it.
  status    Show the state of the stacks, the options they were deployed with, the
            running/desired task counts, recent service events and stopped tasks, and the URL.
  down      Delete the service, database and network stacks, after a confirmation (--yes
            to skip it). Keeps the image repository and its images, and RDS keeps a final
            snapshot of the database; a database with deletion protection has it turned off.

Every option not given keeps the value the deployed stacks have (see `status`); the defaults
in brackets apply to a new deployment.

Options:
  --region REGION            AWS region [AWS_REGION, AWS_DEFAULT_REGION, or the CLI profile's]
  --stack-name PREFIX        prefix of the stack names and the repository name [todo-app]
  --alb on|off               internet-facing Application Load Balancer [on]
  --https on|off             on: HTTPS without a domain of your own through CloudFront (its
                             *.cloudfront.net name), or on the load balancer with
                             --certificate-arn; off: plain HTTP, passwords and cookies in
                             clear [on]. CloudFront refuses WebDAV's methods (PROPFIND,
                             REPORT, ...): calendar apps (CalDAV) need --domain-name and
                             --certificate-arn
  --domain-name NAME         the name users reach the app at, e.g. todo.example.com [none]
  --hosted-zone-id ID        Route 53 hosted zone of NAME: an alias record is created [none];
                             without it, `up` prints the CNAME record to create
  --certificate-arn ARN      ACM certificate for NAME: HTTPS on 443, HTTP redirects [none]
  --database on|off          RDS PostgreSQL [on]; off keeps SQLite inside the task and runs
                             exactly one task (several would each have their own data)
  --desired-count N          tasks to run now [2 for a new service, else the running count]
  --min-count N              fewest tasks auto scaling keeps [2, or desired count if lower]
  --max-count N              most tasks auto scaling starts [4]
  --cpu UNITS                CPU of one task: 256, 512, 1024, 2048, 4096 [256]
  --memory MIB               memory of one task, a Fargate pair with --cpu [512]
  --arch x86_64|arm64        processor of the tasks; arm64 (Graviton) is about 20 % cheaper [x86_64]
  --spot on|off              run the tasks beyond --min-count on Fargate Spot (x86_64 only) [off]
  --pool-size N              database connections per task (DB_POOL_SIZE) [10]
  --db-instance-class CLASS  RDS instance class [db.t4g.micro]
  --max-connections N        PostgreSQL max_connections [100]; takes effect after a reboot
  --reboot-database          reboot the database when max_connections changed (a minute of 503s)
  --storage GIB              database storage [20]
  --max-storage GIB          storage autoscaling ceiling, at least 10 % above --storage [100]
  --multi-az on|off          RDS standby in the second Availability Zone [off]
  --restore-snapshot ID|latest
                             create the database from a DB snapshot: an identifier, or latest
                             for the newest final snapshot that `down` left of this deployment
  --deletion-protection on|off
                             refuse to delete the database [on]; `down` turns it off itself
  --auth-mode accounts|none  AUTH_MODE of the app [accounts]; none is the open API
  --signup open|closed       whether anyone may create an account (SIGNUP) [open]
  --cors-origins LIST        comma-separated origins that may call the API from a browser [none]
  --access-logs on|off       load balancer access logs to an S3 bucket [off]
  --waf on|off               AWS WAF in front of the load balancer (about 8 USD a month) [off]
  --exec on|off              allow ECS Exec into the tasks, to run the app's own subcommands
                             (the image has no shell) [off]
  --alarm-topic-arn ARN      SNS topic for the CloudWatch alarms [none]
  --vpc-id ID                use an existing VPC instead of creating PREFIX-network; needs:
  --public-subnets A,B       two public subnets (with an internet gateway route)
  --private-subnets A,B      two private subnets (for the database)
  --availability-zones A,B   zones for a new PREFIX-network [two that offer Fargate and the
                             database instance class]
  --image-tag TAG            image tag to deploy [REVISION-ARCH: the git revision (with
                             -dirty.TIME if modified) and --arch, e.g. 3f2c1a9b8d7e-arm64]
  --skip-build               do not build or push; deploy --image-tag (or the git revision),
                             which must already be in the repository
  --no-smoke                 skip the smoke test after `up`
  --yes                      `down`: delete without asking (for scripts)
  -h, --help                 show this help

Environment:
  AWS_PROFILE, AWS_ACCESS_KEY_ID, ...   credentials, as for the AWS CLI
  AWS_ENDPOINT_URL                      send every AWS call to this endpoint (used by the tests)

Examples:
  deploy/deploy.sh up --region eu-west-1
  deploy/deploy.sh up --domain-name todo.example.com --hosted-zone-id Z0123... --certificate-arn arn:aws:acm:...
  deploy/deploy.sh up --database off --alb off
  deploy/deploy.sh down --yes
EOF
}

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# --------------------------------------------------------------------------------------------
# Options. GIVEN lists the options on the command line; the others are remembered from the
# deployed stacks, or get their defaults (apply_defaults).
# --------------------------------------------------------------------------------------------
COMMAND=""
GIVEN=" "
REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
PREFIX=todo-app
ALB=""
HTTPS=""
DOMAIN_NAME=""
HOSTED_ZONE_ID=""
CERTIFICATE_ARN=""
DATABASE=""
DESIRED_COUNT=""
MIN_COUNT=""
MAX_COUNT=""
CPU=""
MEMORY=""
ARCH=""
SPOT=""
POOL_SIZE=""
DB_INSTANCE_CLASS=""
MAX_CONNECTIONS=""
REBOOT_DATABASE=0
RESTORE_SNAPSHOT=""
STORAGE=""
MAX_STORAGE=""
MULTI_AZ=""
DELETION_PROTECTION=""
AUTH_MODE=""
SIGNUP=""
CORS_ORIGINS=""
ACCESS_LOGS=""
WAF=""
EXEC=""
ALARM_TOPIC_ARN=""
VPC_ID=""
PUBLIC_SUBNETS=""
PRIVATE_SUBNETS=""
ZONES=""
IMAGE_TAG=""
GIT_REVISION=""
SKIP_BUILD=0
SMOKE=1
YES=0

given() {
  case $GIVEN in *" $1 "*) return 0 ;; esac
  return 1
}
need_value() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
one_of() {
  local option=$1 value=$2 allowed=$3
  case " $allowed " in *" $value "*) return 0 ;; esac
  die "option $option takes ${allowed// / or }, not '$value'"
}
count() { [[ $2 =~ ^[1-9][0-9]*$ && $2 -le 10 ]] || die "option $1 takes a whole number from 1 to 10, not '$2'"; }
number() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "option $1 takes a positive whole number, not '$2'"; }

while [[ $# -gt 0 ]]; do
  opt=$1
  case $opt in
    up | down | status)
      [[ -z $COMMAND ]] || die "one command at a time ($COMMAND and $opt given)"
      COMMAND=$opt
      shift
      continue
      ;;
    -h | --help) usage; exit 0 ;;
    --skip-build) SKIP_BUILD=1; shift; continue ;;
    --no-smoke) SMOKE=0; shift; continue ;;
    --yes) YES=1; shift; continue ;;
    --reboot-database) REBOOT_DATABASE=1; shift; continue ;;
    --*) ;;
    *) die "unknown argument '$opt' (see --help)" ;;
  esac
  # Every other option takes a value. --cors-origins may be empty (no origin).
  if [[ $opt == --cors-origins ]]; then
    [[ $# -ge 2 ]] || die "option $opt needs a value (see --help)"
  else
    need_value "$@"
  fi
  value=$2
  case $opt in
    --region) REGION=$value ;;
    --stack-name) PREFIX=$value ;;
    --alb) one_of "$opt" "$value" "on off"; ALB=$value ;;
    --https) one_of "$opt" "$value" "on off"; HTTPS=$value ;;
    --domain-name) DOMAIN_NAME=$value ;;
    --hosted-zone-id) HOSTED_ZONE_ID=$value ;;
    --certificate-arn) CERTIFICATE_ARN=$value ;;
    --database) one_of "$opt" "$value" "on off"; DATABASE=$value ;;
    --desired-count) count "$opt" "$value"; DESIRED_COUNT=$value ;;
    --min-count) count "$opt" "$value"; MIN_COUNT=$value ;;
    --max-count) count "$opt" "$value"; MAX_COUNT=$value ;;
    --cpu) one_of "$opt" "$value" "256 512 1024 2048 4096"; CPU=$value ;;
    --memory) number "$opt" "$value"; MEMORY=$value ;;
    --arch) one_of "$opt" "$value" "x86_64 arm64"; ARCH=$value ;;
    --spot) one_of "$opt" "$value" "on off"; SPOT=$value ;;
    --pool-size) number "$opt" "$value"; POOL_SIZE=$value ;;
    --db-instance-class) [[ $value =~ ^db\.[a-z0-9]+\.[a-z0-9]+$ ]] || die "--db-instance-class takes a class such as db.t4g.micro, not '$value'"; DB_INSTANCE_CLASS=$value ;;
    --max-connections) number "$opt" "$value"; MAX_CONNECTIONS=$value ;;
    --storage) number "$opt" "$value"; STORAGE=$value ;;
    --max-storage) number "$opt" "$value"; MAX_STORAGE=$value ;;
    --multi-az) one_of "$opt" "$value" "on off"; MULTI_AZ=$value ;;
    --restore-snapshot) RESTORE_SNAPSHOT=$value ;;
    --deletion-protection) one_of "$opt" "$value" "on off"; DELETION_PROTECTION=$value ;;
    --auth-mode) one_of "$opt" "$value" "accounts none"; AUTH_MODE=$value ;;
    --signup) one_of "$opt" "$value" "open closed"; SIGNUP=$value ;;
    --cors-origins) CORS_ORIGINS=$value ;;
    --access-logs) one_of "$opt" "$value" "on off"; ACCESS_LOGS=$value ;;
    --waf) one_of "$opt" "$value" "on off"; WAF=$value ;;
    --exec) one_of "$opt" "$value" "on off"; EXEC=$value ;;
    --alarm-topic-arn) ALARM_TOPIC_ARN=$value ;;
    --vpc-id) VPC_ID=$value ;;
    --public-subnets) PUBLIC_SUBNETS=$value ;;
    --private-subnets) PRIVATE_SUBNETS=$value ;;
    --availability-zones) [[ $value =~ ^[a-z0-9-]+,[a-z0-9-]+$ ]] || die "--availability-zones takes two zones, such as eu-west-1a,eu-west-1b"; ZONES=$value ;;
    --image-tag) IMAGE_TAG=$value ;;
    *) die "unknown argument '$opt' (see --help)" ;;
  esac
  GIVEN="$GIVEN$opt "
  shift 2
done
[[ -n $COMMAND ]] || { usage >&2; exit 2; }
# Also a valid RDS identifier prefix: no double or trailing hyphen.
[[ $PREFIX =~ ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ && ${#PREFIX} -le 31 ]] ||
  die "--stack-name must start with a lower-case letter, hold only a-z, 0-9 and single hyphens between them, and be at most 31 long"
tf() { if [[ $1 == on ]]; then echo true; else echo false; fi; }

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
# Scratch files (AWS error messages, what ECS said while a deployment failed).
WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/todo-deploy.XXXXXX") || die "could not create a temporary directory"
trap 'rm -rf "$WORK_DIR"' EXIT
if [[ -z $REGION ]]; then
  REGION=$(aws configure get region 2>/dev/null || true)
  [[ -n $REGION ]] || die "no AWS region: pass --region, set AWS_REGION, or run 'aws configure'"
fi

# Every AWS call goes through here: one region, and the test endpoint when there is one
# (older CLIs ignore the AWS_ENDPOINT_URL variable, so it is passed explicitly).
awsc() {
  if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
    aws --region "$REGION" --endpoint-url "$AWS_ENDPOINT_URL" "$@"
  else
    aws --region "$REGION" "$@"
  fi
}

check_credentials() {
  local out
  if ! out=$(awsc sts get-caller-identity --query Account --output text 2>&1); then
    die "no usable AWS credentials (${out//$'\n'/ }): run 'aws configure', 'aws sso login' or set AWS_PROFILE"
  fi
  log "AWS account $out, region $REGION"
}

# stack_status NAME: the stack's status, NONE when it does not exist. Any other error
# (throttling, an expired session, a missing permission) stops with AWS's message: read as "no
# stack", it would drop the deployed options (an --alb off deployment would get a load balancer).
# A command substitution is a subshell that `die` cannot end the script from, so every caller
# writes: status=$(stack_status NAME) || exit 1
stack_status() {
  local status
  if status=$(awsc cloudformation describe-stacks --stack-name "$1" --query 'Stacks[0].StackStatus' \
    --output text 2>"$WORK_DIR/stack-status-error"); then
    printf '%s' "${status:-NONE}"
    return 0
  fi
  if grep -q 'does not exist' "$WORK_DIR/stack-status-error"; then
    printf 'NONE'
    return 0
  fi
  die "could not read the state of stack $1: $(tr '\n' ' ' <"$WORK_DIR/stack-status-error")"
}

# A stack in REVIEW_IN_PROGRESS holds only a change set that was never executed (an `up`
# interrupted while creating it, or a change set that failed): no resources, as good as none.
stack_exists() {
  local status
  status=$(stack_status "$1") || exit 1
  case $status in
    NONE | DELETE_COMPLETE | REVIEW_IN_PROGRESS) return 1 ;;
    *) return 0 ;;
  esac
}

# output STACK KEY: a stack output, empty when there is none.
output() {
  local value
  value=$(awsc cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue | [0]" --output text 2>/dev/null) || value=""
  [[ $value != None ]] || value=""
  printf '%s' "$value"
}

# require_output STACK KEY: a stack output that the next step cannot do without. A command
# substitution swallows errors (set -e does not reach into it), so check the value itself.
require_output() {
  local value
  value=$(output "$1" "$2")
  [[ -n $value ]] || die "stack $1 has no output $2; see the stack's events in the CloudFormation console"
  printf '%s' "$value"
}

# stack_parameters STACK: "Key<TAB>Value" lines of a deployed stack, empty when there is none.
stack_parameters() {
  stack_exists "$1" || return 0
  awsc cloudformation describe-stacks --stack-name "$1" \
    --query 'Stacks[0].Parameters[].[ParameterKey,ParameterValue]' --output text ||
    die "could not read the parameters of stack $1"
}
has_param() { printf '%s\n' "$1" | awk -F'\t' -v k="$2" '$1 == k { found = 1 } END { exit !found }'; }
param() {
  local value
  value=$(printf '%s\n' "$1" | awk -F'\t' -v k="$2" '$1 == k && !found { print $2; found = 1 }')
  [[ $value != None ]] || value=""
  printf '%s' "$value"
}

# remember OPTION VARIABLE PARAMETERS KEY [bool|lower]: unless OPTION was given, set VARIABLE
# from the deployed stack's parameter KEY.
remember() {
  local option=$1 variable=$2 parameters=$3 key=$4 kind=${5:-} value
  given "$option" && return 0
  [[ -n $parameters ]] || return 0
  has_param "$parameters" "$key" || return 0
  value=$(param "$parameters" "$key")
  case $kind in
    bool) if [[ $value == true ]]; then value=on; else value=off; fi ;;
    lower) value=$(printf '%s' "$value" | tr '[:upper:]' '[:lower:]') ;;
  esac
  printf -v "$variable" '%s' "$value"
}

# Explain a failed deployment: the reasons CloudFormation recorded, and for the service what
# ECS says (service events, why tasks stopped: CannotPullContainerError, secrets, health).
show_failures() {
  warn "stack $1 failed; the latest errors:"
  awsc cloudformation describe-stack-events --stack-name "$1" --no-paginate \
    --query "StackEvents[:40][?contains(ResourceStatus, 'FAILED')].[LogicalResourceId, ResourceStatusReason]" \
    --output text >&2 2>/dev/null || true
  if [[ $1 == "$SERVICE_STACK" ]]; then
    show_service_problems >&2
  fi
}

# The cluster and service of the service stack: its outputs, or while a first create is failing
# (no outputs yet) its resources.
service_ids() {
  local cluster service
  cluster=$(output "$SERVICE_STACK" ClusterName)
  service=$(output "$SERVICE_STACK" ServiceName)
  if [[ -z $cluster || -z $service ]]; then
    cluster=$(awsc cloudformation describe-stack-resources --stack-name "$SERVICE_STACK" \
      --query "StackResources[?LogicalResourceId=='Cluster'].PhysicalResourceId | [0]" --output text 2>/dev/null) || cluster=""
    service=$(awsc cloudformation describe-stack-resources --stack-name "$SERVICE_STACK" \
      --query "StackResources[?LogicalResourceId=='Service'].PhysicalResourceId | [0]" --output text 2>/dev/null) || service=""
  fi
  [[ -n $cluster && $cluster != None && -n $service && $service != None ]] || return 1
  printf '%s %s' "${cluster##*/}" "${service##*/}"
}

show_service_problems() {
  local ids cluster service stopped
  ids=$(service_ids) || return 0
  cluster=${ids%% *} service=${ids#* }
  printf 'ECS service %s, latest events:\n' "$service"
  awsc ecs describe-services --cluster "$cluster" --services "$service" \
    --query 'services[0].events[:8].[createdAt, message]' --output text 2>/dev/null || true
  stopped=$(awsc ecs list-tasks --cluster "$cluster" --service-name "$service" --desired-status STOPPED \
    --query 'taskArns[:5]' --output text 2>/dev/null) || stopped=""
  if [[ -n $stopped && $stopped != None ]]; then
    printf 'Recently stopped tasks and why (CannotPullContainerError: image or registry access; ResourceInitializationError ... secrets: the secret or its permissions; exec format error: an image for another --arch):\n'
    # shellcheck disable=SC2086 # one argument per task ARN
    awsc ecs describe-tasks --cluster "$cluster" --tasks $stopped \
      --query 'tasks[].[taskArn, stopCode, stoppedReason, containers[0].reason]' --output text 2>/dev/null || true
  fi
}

# Wait while another operation changes the stack (a previous `up` interrupted, a rollback);
# sets SETTLED_STATUS. REVIEW_IN_PROGRESS is not an operation: nothing will ever end it.
SETTLED_STATUS=""
wait_until_settled() {
  local name=$1 status waited=0
  while :; do
    status=$(stack_status "$name") || exit 1
    case $status in
      REVIEW_IN_PROGRESS) break ;;
      *_IN_PROGRESS) ;;
      *) break ;;
    esac
    [[ $waited -ge 3600 ]] && die "stack $name is still $status after an hour; look at its events in the CloudFormation console"
    log "stack $name is $status; waiting for it to finish"
    sleep "$POLL_SECONDS"
    waited=$((waited + POLL_SECONDS))
  done
  SETTLED_STATUS=$status
}

# Bring a stack into a state that a change set can create or update.
prepare_stack() {
  local name=$1
  wait_until_settled "$name"
  case $SETTLED_STATUS in
    REVIEW_IN_PROGRESS)
      # The AWS CLI treats such a stack as one that does not exist; delete it so that a failed
      # change set of an earlier run does not linger, and start over.
      log "stack $name is REVIEW_IN_PROGRESS: an earlier run stopped before its first change set was executed; deleting the empty stack to create it again"
      delete_stack "$name"
      ;;
    ROLLBACK_COMPLETE)
      # A create that failed and was rolled back leaves an empty stack that can only be
      # deleted; every update of it fails. Say why it failed, then start over.
      show_failures "$name"
      log "stack $name failed to create earlier and was rolled back (ROLLBACK_COMPLETE); deleting it to create it again"
      delete_stack "$name"
      ;;
    UPDATE_ROLLBACK_FAILED)
      show_failures "$name"
      die "stack $name is UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back its last update, usually because a resource was changed or deleted outside CloudFormation, or a dependency (the database, a secret) was unavailable. Fix the cause above, then run
    aws cloudformation continue-update-rollback --region $REGION --stack-name $name
(add --resources-to-skip LOGICAL_ID for a resource that cannot be rolled back), wait until it is UPDATE_ROLLBACK_COMPLETE, and run up again."
      ;;
    ROLLBACK_FAILED | DELETE_FAILED)
      show_failures "$name"
      die "stack $name is $SETTLED_STATUS: CloudFormation could not delete some of its resources. Delete the stack in the CloudFormation console (choose to retain the resources it cannot delete), remove those by hand, and run up again."
      ;;
  esac
}

# elapsed: minutes and seconds since the script started, for the progress lines.
elapsed() { printf '%3d:%02d' $((SECONDS / 60)) $((SECONDS % 60)); }

# follow_stack STACK_ID SINCE_EVENT_ID: print the stack's events after SINCE_EVENT_ID as they
# happen, until the stack itself reports a final state; sets FINAL_STATUS and leaves the reasons
# of failed resources in $WORK_DIR/failures. For the service stack what ECS says (service
# events, why tasks stopped) is saved as soon as something fails, and every minute before that:
# a failed first create rolls back and deletes the cluster, and with it all of that.
FINAL_STATUS=""
follow_stack() {
  local id=$1 since=$2 events newest polls=0 snapshot=0 service_stack=0
  local event_id resource_status resource_type logical physical reason
  FINAL_STATUS=""
  : >"$WORK_DIR/failures"
  : >"$WORK_DIR/service-problems"
  case $id in */"$SERVICE_STACK"/*) service_stack=1 ;; esac
  while :; do
    events=$(awsc cloudformation describe-stack-events --stack-name "$id" --no-paginate \
      --query 'StackEvents[].[EventId, ResourceStatus, ResourceType, LogicalResourceId, PhysicalResourceId, ResourceStatusReason]' \
      --output text 2>"$WORK_DIR/follow-error") ||
      die "could not read the events of stack $id: $(tr '\n' ' ' <"$WORK_DIR/follow-error")"
    newest=${events%%$'\n'*} newest=${newest%%$'\t'*}
    # AWS lists the newest first: keep those after SINCE, and print them oldest first.
    while IFS=$'\t' read -r event_id resource_status resource_type logical physical reason; do
      [[ -n $event_id ]] || continue
      [[ $reason != None ]] || reason=""
      printf '%s  %-28s %-44s %s%s\n' "$(elapsed)" "$resource_status" "$resource_type" "$logical" "${reason:+  $reason}" >&2
      case $resource_status in
        *FAILED)
          [[ -z $reason ]] || printf '%s: %s\n' "$logical" "$reason" >>"$WORK_DIR/failures"
          snapshot=1
          ;;
        *ROLLBACK_IN_PROGRESS) snapshot=1 ;;
      esac
      # The stack's own events carry its status; the last final one ends the operation.
      if [[ $resource_type == AWS::CloudFormation::Stack && $physical == "$id" ]]; then
        case $resource_status in
          *_IN_PROGRESS) FINAL_STATUS="" ;;
          *) FINAL_STATUS=$resource_status ;;
        esac
      fi
    done <<EOF
$(printf '%s\n' "$events" | awk -F'\t' -v since="$since" '$1 == since { seen = 1 } !seen { line[++n] = $0 } END { for (i = n; i > 0; i--) print line[i] }')
EOF
    [[ -z $newest ]] || since=$newest
    if [[ $service_stack -eq 1 ]] && { [[ $snapshot -eq 1 ]] || [[ $((polls % 12)) -eq 11 ]]; }; then
      # Keep the last snapshot that found the service: after the rollback there is none.
      if show_service_problems >"$WORK_DIR/service-problems.new" 2>/dev/null && [[ -s $WORK_DIR/service-problems.new ]]; then
        mv "$WORK_DIR/service-problems.new" "$WORK_DIR/service-problems"
      fi
      snapshot=0
    fi
    [[ -z $FINAL_STATUS ]] || return 0
    polls=$((polls + 1))
    sleep "$EVENT_POLL_SECONDS"
  done
}

# Print why a stack operation failed, from what follow_stack collected while it ran.
report_failure() {
  local name=$1
  warn "stack $name ended $FINAL_STATUS; what failed:"
  if [[ -s $WORK_DIR/failures ]]; then
    sed 's/^/    /' "$WORK_DIR/failures" >&2
  else
    warn "CloudFormation gave no reason; see the stack's events in the CloudFormation console"
  fi
  if [[ -s $WORK_DIR/service-problems ]]; then
    warn "what ECS said while the deployment ran:"
    cat "$WORK_DIR/service-problems" >&2
  fi
}

# stack_id_and_latest_event STACK: "STACK_ID<TAB>EVENT_ID", the stack's ID and its newest event,
# from which follow_stack starts.
stack_id_and_latest_event() {
  awsc cloudformation describe-stack-events --stack-name "$1" --no-paginate \
    --query 'StackEvents[0].[StackId, EventId]' --output text ||
    die "could not read the events of stack $1"
}

# The bucket that templates go through: CloudFormation takes at most 51,200 bytes of template
# inline, 1 MB from S3 (the registry stack has the bucket, and itself goes inline).
TEMPLATE_BUCKET=""

# deploy_stack NAME TEMPLATE [Key=Value ...]: create or update and follow it, no-op when
# unchanged. The change set is created by the AWS CLI (it keeps every parameter not given at
# its previous value) and executed here, so that the events can be shown as they happen.
deploy_stack() {
  local name=$1 template=$2 out change_set stack_id since
  shift 2
  prepare_stack "$name"
  log "deploying stack $name"
  if [[ $# -eq 0 ]]; then
    set -- --no-fail-on-empty-changeset --no-execute-changeset
  else
    set -- --no-fail-on-empty-changeset --no-execute-changeset --parameter-overrides "$@"
  fi
  if [[ -n $TEMPLATE_BUCKET ]]; then
    set -- --s3-bucket "$TEMPLATE_BUCKET" --s3-prefix "templates/$name" "$@"
  fi
  if ! out=$(awsc cloudformation deploy --stack-name "$name" --template-file "$TEMPLATE_DIR/$template" \
    --capabilities CAPABILITY_IAM --tags "project=todo-app" "deployment=$PREFIX" "$@" 2>&1); then
    printf '%s\n' "$out" >&2
    show_failures "$name"
    die "could not create a change set for $name"
  fi
  case $out in
    *"No changes to deploy"*)
      log "no changes: stack $name is up to date"
      return 0
      ;;
  esac
  change_set=$(printf '%s\n' "$out" | sed -n 's/.*--change-set-name \([^[:space:]]*\).*/\1/p')
  change_set=${change_set%%$'\n'*}
  [[ -n $change_set ]] || { printf '%s\n' "$out" >&2; die "could not find the change set of $name in the AWS CLI's answer"; }
  since=$(stack_id_and_latest_event "$name") || exit 1
  stack_id=${since%%$'\t'*} since=${since#*$'\t'}
  awsc cloudformation execute-change-set --change-set-name "$change_set" >/dev/null ||
    die "could not execute the change set of $name"
  follow_stack "$stack_id" "$since"
  case $FINAL_STATUS in
    CREATE_COMPLETE | UPDATE_COMPLETE) log "stack $name: $FINAL_STATUS" ;;
    *)
      report_failure "$name"
      die "deploying $name failed ($FINAL_STATUS)"
      ;;
  esac
}

delete_stack() {
  local name=$1 stack_id since
  wait_until_settled "$name"
  case $SETTLED_STATUS in
    NONE | DELETE_COMPLETE)
      log "stack $name does not exist"
      return 0
      ;;
  esac
  since=$(stack_id_and_latest_event "$name") || exit 1
  stack_id=${since%%$'\t'*} since=${since#*$'\t'}
  log "deleting stack $name"
  awsc cloudformation delete-stack --stack-name "$stack_id"
  follow_stack "$stack_id" "$since"
  if [[ $FINAL_STATUS != DELETE_COMPLETE ]]; then
    report_failure "$name"
    die "deleting $name failed ($FINAL_STATUS)"
  fi
}

# ECS needs its service-linked role to create the first cluster of an account, and creating
# the role on demand races with the cluster ("Unable to assume the service linked role"): the
# stack fails and rolls back. So create the roles first; they exist once per account.
ensure_service_linked_role() {
  local service=$1 role=$2 out
  awsc iam get-role --role-name "$role" >/dev/null 2>&1 && return 0
  log "creating the service-linked role $role (once per account)"
  if ! out=$(awsc iam create-service-linked-role --aws-service-name "$service" 2>&1); then
    # Created meanwhile, or "has been taken in this account": fine either way.
    awsc iam get-role --role-name "$role" >/dev/null 2>&1 ||
      die "could not create the service-linked role for $service (${out//$'\n'/ }); an administrator can run: aws iam create-service-linked-role --aws-service-name $service"
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

check_docker() {
  command -v docker >/dev/null 2>&1 ||
    die "Docker is not installed: install it, or push the image yourself and use --skip-build --image-tag TAG"
  docker info >/dev/null 2>&1 ||
    die "the Docker daemon is not reachable: start it (or check your permissions to its socket)"
}

# The platform of the image for --arch, as Docker names it.
docker_platform() { if [[ $ARCH == arm64 ]]; then echo linux/arm64; else echo linux/amd64; fi; }

BUILT=0
build_and_push() {
  local uri=$1 tag=$2 platform host
  platform=$(docker_platform)
  if image_exists "$tag"; then
    log "image $uri:$tag is already in the repository; not rebuilding"
    return 0
  fi
  [[ $SKIP_BUILD -eq 0 ]] ||
    die "image tag '$tag' is not in repository $REPOSITORY_NAME: push it first or drop --skip-build"
  check_docker
  host=$(docker info --format '{{.Architecture}}' 2>/dev/null || true)
  case $host/$platform in
    x86_64/linux/arm64 | amd64/linux/arm64 | aarch64/linux/amd64 | arm64/linux/amd64)
      warn "building a $platform image on a $host Docker host: the build runs emulated (QEMU), which needs binfmt support and takes far longer (see docs/deploy.md, \"Processor architecture\")"
      ;;
  esac
  log "building $uri:$tag for $platform"
  # The platform is explicit: Docker would otherwise build for its own host, and a task on the
  # other architecture fails with "exec format error". The revision goes into the binary
  # (/version): the build context has no .git.
  docker build --platform "$platform" --build-arg "GIT_REVISION=${GIT_REVISION:-$tag}" -t "$uri:$tag" "$REPO_ROOT" >&2
  log "pushing $uri:$tag"
  awsc ecr get-login-password | docker login --username AWS --password-stdin "${uri%%/*}" >&2
  docker push "$uri:$tag" >&2
  BUILT=1
}

# --------------------------------------------------------------------------------------------
# Availability Zones
# --------------------------------------------------------------------------------------------
# Zone IDs where Fargate does not run (AWS lists the zones per region; these are the gaps).
FARGATE_EXCLUDED_ZONE_IDS="use1-az3 apne1-az3"

# Two zones for a new network: available, no opt-in needed, offering Fargate and (with the
# database) the instance class. Prints "zoneA,zoneB".
pick_zones() {
  local zones db_zones="" picked="" name id n=0
  zones=$(awsc ec2 describe-availability-zones --filters Name=state,Values=available \
    --query "AvailabilityZones[?ZoneType=='availability-zone' || ZoneType==null].[ZoneName, ZoneId, OptInStatus]" \
    --output text) || die "could not list the Availability Zones of $REGION"
  if [[ $DATABASE == on ]]; then
    db_zones=$(awsc rds describe-orderable-db-instance-options --engine postgres \
      --db-instance-class "$DB_INSTANCE_CLASS" \
      --query 'OrderableDBInstanceOptions[].AvailabilityZones[].Name' --output text) ||
      die "could not ask RDS where $DB_INSTANCE_CLASS is offered"
    db_zones=" $(printf '%s' "$db_zones" | tr '\t\n' '  ') "
    [[ -n ${db_zones// /} ]] || die "RDS offers no PostgreSQL $DB_INSTANCE_CLASS in $REGION: choose another --db-instance-class"
  fi
  while read -r name id optin; do
    [[ -n $name ]] || continue
    [[ $optin == opt-in-not-required || $optin == None || -z $optin ]] || continue
    case " $FARGATE_EXCLUDED_ZONE_IDS " in *" $id "*) continue ;; esac
    if [[ $DATABASE == on ]]; then
      case $db_zones in *" $name "*) ;; *) continue ;; esac
    fi
    picked="$picked${picked:+,}$name"
    n=$((n + 1))
    [[ $n -eq 2 ]] && break
  done <<EOF
$(printf '%s\n' "$zones" | sort)
EOF
  [[ $n -eq 2 ]] || die "found fewer than two Availability Zones in $REGION that offer Fargate${db_zones:+ and $DB_INSTANCE_CLASS}: pass --availability-zones A,B"
  printf '%s' "$picked"
}

# --------------------------------------------------------------------------------------------
# Options from the deployed stacks, then defaults and checks
# --------------------------------------------------------------------------------------------
NETWORK_PARAMS=""
DATABASE_PARAMS=""
SERVICE_PARAMS=""
load_deployed() {
  NETWORK_PARAMS=$(stack_parameters "$NETWORK_STACK") || exit 1
  DATABASE_PARAMS=$(stack_parameters "$DATABASE_STACK") || exit 1
  SERVICE_PARAMS=$(stack_parameters "$SERVICE_STACK") || exit 1
}

apply_remembered() {
  local s=$SERVICE_PARAMS d=$DATABASE_PARAMS
  remember --alb ALB "$s" EnableLoadBalancer bool
  remember --domain-name DOMAIN_NAME "$s" DomainName
  remember --hosted-zone-id HOSTED_ZONE_ID "$s" HostedZoneId
  remember --certificate-arn CERTIFICATE_ARN "$s" CertificateArn
  remember --https HTTPS "$s" EnableCloudFront bool
  # A service deployed before CloudFront existed here served plain HTTP unless it had a
  # certificate: it keeps doing so until --https on is given.
  if ! given --https && [[ -n $s ]] && ! has_param "$s" EnableCloudFront && [[ -z $CERTIFICATE_ARN ]]; then
    HTTPS=off
  fi
  # EnableCloudFront is ignored with a certificate (HTTPS on the load balancer).
  if ! given --https && [[ -n $CERTIFICATE_ARN ]]; then HTTPS=on; fi
  remember --min-count MIN_COUNT "$s" MinCount
  remember --max-count MAX_COUNT "$s" MaxCount
  remember --cpu CPU "$s" Cpu
  remember --memory MEMORY "$s" Memory
  remember --arch ARCH "$s" CpuArchitecture lower
  remember --spot SPOT "$s" EnableSpot bool
  remember --pool-size POOL_SIZE "$s" DatabasePoolSize
  remember --auth-mode AUTH_MODE "$s" AuthMode
  remember --signup SIGNUP "$s" Signup
  remember --cors-origins CORS_ORIGINS "$s" CorsOrigins
  remember --access-logs ACCESS_LOGS "$s" EnableAccessLogs bool
  remember --waf WAF "$s" EnableWaf bool
  remember --exec EXEC "$s" EnableExecuteCommand bool
  remember --alarm-topic-arn ALARM_TOPIC_ARN "$s" AlarmTopicArn
  remember --db-instance-class DB_INSTANCE_CLASS "$d" DBInstanceClass
  remember --max-connections MAX_CONNECTIONS "$d" MaxConnections
  remember --storage STORAGE "$d" AllocatedStorage
  remember --max-storage MAX_STORAGE "$d" MaxAllocatedStorage
  remember --multi-az MULTI_AZ "$d" MultiAZ bool
  remember --deletion-protection DELETION_PROTECTION "$d" DeletionProtection bool
  [[ -n $ALARM_TOPIC_ARN ]] || remember --alarm-topic-arn ALARM_TOPIC_ARN "$d" AlarmTopicArn
  # The database is on when the service uses one (or, before a service exists, when there is
  # a database stack).
  if ! given --database; then
    if [[ -n $s ]] && has_param "$s" DatabaseHost; then
      if [[ -n $(param "$s" DatabaseHost) ]]; then DATABASE=on; else DATABASE=off; fi
    elif [[ -n $d ]]; then
      DATABASE=on
    fi
  fi
  # A network that deploy.sh did not create: the VPC and subnets the stacks run in.
  if ! given --vpc-id && [[ -z $NETWORK_PARAMS ]] && ! stack_exists "$NETWORK_STACK" && [[ -n $s ]]; then
    VPC_ID=$(param "$s" VpcId)
    PUBLIC_SUBNETS=$(param "$s" PublicSubnetIds)
    [[ -z $d ]] || PRIVATE_SUBNETS=$(param "$d" SubnetIds)
  fi
  # Zones of an existing network stay as they are (another zone would replace the subnets).
  if [[ -n $NETWORK_PARAMS ]] && has_param "$NETWORK_PARAMS" AvailabilityZoneA; then
    if given --availability-zones && [[ $ZONES != "$(param "$NETWORK_PARAMS" AvailabilityZoneA),$(param "$NETWORK_PARAMS" AvailabilityZoneB)" ]]; then
      die "--availability-zones cannot change the zones of the existing stack $NETWORK_STACK (its subnets would be replaced)"
    fi
    ZONES="$(param "$NETWORK_PARAMS" AvailabilityZoneA),$(param "$NETWORK_PARAMS" AvailabilityZoneB)"
  fi
}

apply_defaults() {
  [[ -n $ALB ]] || ALB=on
  [[ -n $HTTPS ]] || HTTPS=on
  [[ -n $DATABASE ]] || DATABASE=on
  [[ -n $MAX_COUNT ]] || MAX_COUNT=4
  [[ -n $CPU ]] || CPU=256
  [[ -n $MEMORY ]] || MEMORY=512
  [[ -n $ARCH ]] || ARCH=x86_64
  [[ -n $SPOT ]] || SPOT=off
  [[ -n $POOL_SIZE ]] || POOL_SIZE=10
  [[ -n $DB_INSTANCE_CLASS ]] || DB_INSTANCE_CLASS=db.t4g.micro
  [[ -n $MAX_CONNECTIONS ]] || MAX_CONNECTIONS=100
  [[ -n $STORAGE ]] || STORAGE=20
  [[ -n $MAX_STORAGE ]] || MAX_STORAGE=100
  [[ -n $MULTI_AZ ]] || MULTI_AZ=off
  [[ -n $DELETION_PROTECTION ]] || DELETION_PROTECTION=on
  [[ -n $AUTH_MODE ]] || AUTH_MODE=accounts
  [[ -n $SIGNUP ]] || SIGNUP=open
  [[ -n $ACCESS_LOGS ]] || ACCESS_LOGS=off
  [[ -n $WAF ]] || WAF=off
  [[ -n $EXEC ]] || EXEC=off
  if [[ $DATABASE == off ]]; then
    # Each task would have its own SQLite file: a request and the next one could see different
    # lists. One task keeps the deployment coherent.
    local option value
    for option in --desired-count --min-count --max-count; do
      case $option in
        --desired-count) value=$DESIRED_COUNT ;;
        --min-count) value=$MIN_COUNT ;;
        --max-count) value=$MAX_COUNT ;;
      esac
      if given "$option" && [[ $value != 1 ]]; then
        die "--database off keeps the data in a SQLite file inside each task, so it runs exactly one task: drop $option $value, or use --database on"
      fi
    done
    if [[ $MIN_COUNT$MAX_COUNT != 11 ]]; then
      log "--database off: running one task (each task would have its own SQLite data)"
    fi
    DESIRED_COUNT=1 MIN_COUNT=1 MAX_COUNT=1
  fi
  if [[ -z $MIN_COUNT ]]; then
    MIN_COUNT=2
    if given --desired-count && [[ $DESIRED_COUNT -lt 2 ]]; then MIN_COUNT=$DESIRED_COUNT; fi
  fi
}

validate() {
  local pairs
  case $CPU in
    256) pairs="512 1024 2048" ;;
    512) pairs="1024 2048 3072 4096" ;;
    1024) pairs="2048 3072 4096 5120 6144 7168 8192" ;;
    2048) pairs="4096 5120 6144 7168 8192 16384" ;;
    4096) pairs="8192 16384 30720" ;;
  esac
  case " $pairs " in
    *" $MEMORY "*) ;;
    *) die "Fargate has no task size --cpu $CPU --memory $MEMORY: with $CPU CPU units choose --memory from $pairs" ;;
  esac
  [[ $SPOT == off || $ARCH == x86_64 ]] || die "Fargate Spot runs x86_64 tasks only: use --spot off with --arch arm64"
  ((MIN_COUNT <= MAX_COUNT)) || die "need --min-count ($MIN_COUNT) <= --max-count ($MAX_COUNT)"
  if [[ -n $DESIRED_COUNT ]]; then
    ((MIN_COUNT <= DESIRED_COUNT && DESIRED_COUNT <= MAX_COUNT)) ||
      die "need --min-count ($MIN_COUNT) <= --desired-count ($DESIRED_COUNT) <= --max-count ($MAX_COUNT)"
  fi
  if [[ $DATABASE == on ]]; then
    ((STORAGE >= 20 && STORAGE <= 65536)) || die "--storage takes 20 to 65536 GiB (gp3), not $STORAGE"
    # RDS storage autoscaling needs a ceiling at least 10 % above the allocated size.
    ((MAX_STORAGE * 10 >= STORAGE * 11 && MAX_STORAGE <= 65536)) ||
      die "--max-storage ($MAX_STORAGE GiB) must be at least 10 % above --storage ($STORAGE GiB) and at most 65536"
    ((MAX_CONNECTIONS >= 25 && MAX_CONNECTIONS <= 5000)) || die "--max-connections takes 25 to 5000, not $MAX_CONNECTIONS"
  fi
  if [[ $HTTPS == off && -n $CERTIFICATE_ARN ]]; then
    die "--https off and --certificate-arn contradict each other: drop one"
  fi
  if [[ $ALB == on && $HTTPS == on && -n $DOMAIN_NAME && -z $CERTIFICATE_ARN ]]; then
    die "--domain-name needs --certificate-arn for HTTPS on that name (CloudFront serves its own *.cloudfront.net name); or pass --https off for plain HTTP on it"
  fi
  [[ -z $CERTIFICATE_ARN || -n $DOMAIN_NAME ]] ||
    die "--certificate-arn needs --domain-name: the certificate is for a name, never for the load balancer's own DNS name, so HTTPS to that would fail"
  [[ -z $HOSTED_ZONE_ID || -n $DOMAIN_NAME ]] || die "--hosted-zone-id needs --domain-name, the record to create"
  [[ -z $DOMAIN_NAME || $DOMAIN_NAME =~ ^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$ ]] ||
    die "--domain-name takes a lower-case DNS name such as todo.example.com, not '$DOMAIN_NAME'"
  if [[ $ALB == off ]]; then
    [[ -z $DOMAIN_NAME$CERTIFICATE_ARN$HOSTED_ZONE_ID ]] ||
      die "--domain-name, --hosted-zone-id and --certificate-arn need the load balancer (--alb on)"
    [[ $ACCESS_LOGS == off && $WAF == off ]] || die "--access-logs and --waf need the load balancer (--alb on)"
  fi
  if [[ -n $VPC_ID ]]; then
    [[ -n $PUBLIC_SUBNETS ]] || die "--vpc-id needs --public-subnets"
    [[ $DATABASE == off || -n $PRIVATE_SUBNETS ]] || die "--vpc-id with --database on needs --private-subnets"
  fi
}

# cloudfront_in_front: whether the service stack puts CloudFront in front of the load balancer.
cloudfront_in_front() { [[ $ALB == on && $HTTPS == on && -z $CERTIFICATE_ARN ]]; }

# The AWS-managed prefix list of CloudFront's origin-facing addresses: its ID differs by region.
PREFIX_LIST_ID=""
find_cloudfront_prefix_list() {
  cloudfront_in_front || return 0
  PREFIX_LIST_ID=$(awsc ec2 describe-managed-prefix-lists \
    --filters Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing \
    --query 'PrefixLists[0].PrefixListId' --output text) ||
    die "could not look up CloudFront's prefix list (ec2:DescribeManagedPrefixLists)"
  [[ -n $PREFIX_LIST_ID && $PREFIX_LIST_ID != None ]] ||
    die "region $REGION has no prefix list com.amazonaws.global.cloudfront.origin-facing; use --certificate-arn for HTTPS on the load balancer, or --https off"
}

# certificate_covers NAME_ON_CERTIFICATE HOST: a name or a wildcard of one label.
certificate_covers() {
  [[ $1 == "$2" ]] && return 0
  case $1 in
    '*.'*) [[ $2 == *.* && ${2#*.} == "${1#\*.}" ]] && return 0 ;;
  esac
  return 1
}

# The certificate is checked before anything is created: a load balancer takes certificates
# of its own region only, CloudFormation would fail late (and roll back) on one that is not
# issued, and one for another name makes every browser refuse the site.
check_certificate() {
  local region answer status names name covered=0
  [[ -n $CERTIFICATE_ARN ]] || return 0
  region=$(printf '%s' "$CERTIFICATE_ARN" | cut -d: -f4)
  [[ $region == "$REGION" ]] ||
    die "certificate $CERTIFICATE_ARN is in $region, but the load balancer is in $REGION and takes certificates of its own region only: request one there (aws acm request-certificate --domain-name $DOMAIN_NAME --validation-method DNS --region $REGION)"
  # shellcheck disable=SC2016 # backquotes are JMESPath literals, not shell
  answer=$(awsc acm describe-certificate --certificate-arn "$CERTIFICATE_ARN" \
    --query 'Certificate.[Status, DomainName, join(`,`, SubjectAlternativeNames || `[]`)]' --output text 2>&1) ||
    die "could not read certificate $CERTIFICATE_ARN: ${answer//$'\n'/ }"
  status=$(printf '%s' "$answer" | cut -f 1)
  names="$(printf '%s' "$answer" | cut -f 2),$(printf '%s' "$answer" | cut -f 3)"
  [[ $status == ISSUED ]] ||
    die "certificate $CERTIFICATE_ARN is $status, not ISSUED: with DNS validation, create the CNAME records that 'aws acm describe-certificate --certificate-arn $CERTIFICATE_ARN --region $REGION' lists, wait for ISSUED, and run up again"
  for name in $(printf '%s' "$names" | tr ',' ' '); do
    if certificate_covers "$name" "$DOMAIN_NAME"; then covered=1; fi
  done
  [[ $covered -eq 1 ]] ||
    die "certificate $CERTIFICATE_ARN is for $(printf '%s' "$names" | sed 's/,$//; s/,/, /g'), which does not cover $DOMAIN_NAME: request one for $DOMAIN_NAME"
}

# With --hosted-zone-id the service stack creates an alias record for the name. A record the
# stack does not own already there (typically the CNAME that an `up` without the zone asked
# for) would make that fail after everything else was created; say so first.
check_dns_record() {
  local records type value
  [[ -n $HOSTED_ZONE_ID && $ALB == on ]] || return 0
  if [[ -n $SERVICE_PARAMS && $(param "$SERVICE_PARAMS" HostedZoneId) == "$HOSTED_ZONE_ID" &&
    $(param "$SERVICE_PARAMS" DomainName) == "$DOMAIN_NAME" ]]; then
    return 0 # the stack's own alias record
  fi
  records=$(awsc route53 list-resource-record-sets --hosted-zone-id "$HOSTED_ZONE_ID" \
    --start-record-name "$DOMAIN_NAME" --no-paginate \
    --query "ResourceRecordSets[?Name=='$DOMAIN_NAME.' && (Type=='CNAME' || Type=='A' || Type=='AAAA')].[Type, ResourceRecords[0].Value || AliasTarget.DNSName]" \
    --output text 2>&1) || die "could not read hosted zone $HOSTED_ZONE_ID: ${records//$'\n'/ }"
  [[ -n $records ]] || return 0
  records=${records%%$'\n'*}
  type=${records%%$'\t'*} value=${records#*$'\t'}
  value=${value%%$'\t'*}
  die "$DOMAIN_NAME already has a $type record in hosted zone $HOSTED_ZONE_ID (to $value), probably the one an earlier up asked you to create. The alias record that --hosted-zone-id makes cannot exist next to it. Either keep that record and drop --hosted-zone-id (a CNAME to the load balancer works as well), or delete it (aws route53 change-resource-record-sets --hosted-zone-id $HOSTED_ZONE_ID with a DELETE of it; the name does not resolve until the alias exists) and run up again."
}

# --restore-snapshot: the snapshot to create the database from. Only for a new database stack:
# on an existing one a new snapshot identifier would replace the database.
SNAPSHOT_ID=""
choose_snapshot() {
  [[ -n $RESTORE_SNAPSHOT ]] || return 0
  [[ $DATABASE == on ]] || die "--restore-snapshot needs --database on"
  ! stack_exists "$DATABASE_STACK" ||
    die "--restore-snapshot creates the database from a snapshot, but stack $DATABASE_STACK exists: run 'down' first (it keeps a final snapshot)"
  if [[ $RESTORE_SNAPSHOT == latest ]]; then
    # CloudFormation names the instance after the stack, and the final snapshot keeps that name.
    SNAPSHOT_ID=$(awsc rds describe-db-snapshots --snapshot-type manual \
      --query "reverse(sort_by(DBSnapshots[?starts_with(DBInstanceIdentifier, '$DATABASE_STACK-') && Status=='available'], &SnapshotCreateTime))[0].DBSnapshotIdentifier" \
      --output text) || die "could not list the DB snapshots"
    [[ -n $SNAPSHOT_ID && $SNAPSHOT_ID != None ]] ||
      die "no available snapshot of a database of $DATABASE_STACK in $REGION; list them with: aws rds describe-db-snapshots --snapshot-type manual --region $REGION"
  else
    SNAPSHOT_ID=$(awsc rds describe-db-snapshots --db-snapshot-identifier "$RESTORE_SNAPSHOT" \
      --query 'DBSnapshots[0].DBSnapshotIdentifier' --output text 2>&1) ||
      die "no DB snapshot $RESTORE_SNAPSHOT in $REGION: ${SNAPSHOT_ID//$'\n'/ }"
  fi
  log "the database is created from snapshot $SNAPSHOT_ID"
}

# max_connections is a static PostgreSQL parameter: a new value waits for a reboot. Until then
# the budget must hold against the value the server runs with.
EFFECTIVE_MAX_CONNECTIONS=""
DATABASE_NEEDS_REBOOT=0
check_connection_budget() {
  local deployed="" apply="" instance
  EFFECTIVE_MAX_CONNECTIONS=$MAX_CONNECTIONS
  [[ $DATABASE == on ]] || return 0
  if [[ -n $DATABASE_PARAMS ]]; then
    deployed=$(param "$DATABASE_PARAMS" MaxConnections)
    instance=$(output "$DATABASE_STACK" InstanceId)
    if [[ -n $instance ]]; then
      apply=$(awsc rds describe-db-instances --db-instance-identifier "$instance" \
        --query 'DBInstances[0].DBParameterGroups[0].ParameterApplyStatus' --output text 2>/dev/null) || apply=""
    fi
    if [[ -n $deployed && ($deployed != "$MAX_CONNECTIONS" || $apply == pending-reboot) ]]; then
      DATABASE_NEEDS_REBOOT=1
      if [[ $REBOOT_DATABASE -eq 0 ]]; then
        ((deployed < MAX_CONNECTIONS)) && EFFECTIVE_MAX_CONNECTIONS=$deployed
        warn "max_connections $MAX_CONNECTIONS is pending until the database reboots (it is static); checking the budget against $EFFECTIVE_MAX_CONNECTIONS. Pass --reboot-database to apply it now (about a minute without database)."
      fi
    fi
  fi
  # During a deployment up to twice the tasks run (MaximumPercent 200), each with a full pool,
  # and PostgreSQL keeps some connections for itself and for operators.
  if ((MAX_COUNT * 2 * POOL_SIZE > EFFECTIVE_MAX_CONNECTIONS - 10)); then
    die "connection budget exceeded: --max-count $MAX_COUNT x 2 x --pool-size $POOL_SIZE = $((MAX_COUNT * 2 * POOL_SIZE)) > max_connections $EFFECTIVE_MAX_CONNECTIONS - 10; lower the counts or the pool, or raise --max-connections (with --reboot-database) on a larger instance"
  fi
}

# The desired count: given, else what runs now (auto scaling may have moved it), kept within
# the bounds; a new service starts with two (or the minimum).
choose_desired_count() {
  local ids live=""
  given --desired-count && return 0
  [[ $DATABASE == off ]] && return 0
  if [[ -n $SERVICE_PARAMS ]] && ids=$(service_ids); then
    live=$(awsc ecs describe-services --cluster "${ids%% *}" --services "${ids#* }" \
      --query 'services[0].desiredCount' --output text 2>/dev/null) || live=""
  fi
  if [[ $live =~ ^[0-9]+$ ]]; then
    DESIRED_COUNT=$live
    ((DESIRED_COUNT >= MIN_COUNT)) || DESIRED_COUNT=$MIN_COUNT
    ((DESIRED_COUNT <= MAX_COUNT)) || DESIRED_COUNT=$MAX_COUNT
    log "keeping $DESIRED_COUNT running tasks (the service runs $live; --desired-count sets another number)"
  else
    DESIRED_COUNT=2
    ((DESIRED_COUNT >= MIN_COUNT)) || DESIRED_COUNT=$MIN_COUNT
    ((DESIRED_COUNT <= MAX_COUNT)) || DESIRED_COUNT=$MAX_COUNT
  fi
}

options_line() {
  local line="--alb $ALB --https $HTTPS --database $DATABASE --min-count $MIN_COUNT --max-count $MAX_COUNT --cpu $CPU --memory $MEMORY --arch $ARCH --spot $SPOT"
  line="$line --auth-mode $AUTH_MODE --signup $SIGNUP --exec $EXEC"
  [[ $ALB == off ]] || line="$line --access-logs $ACCESS_LOGS --waf $WAF"
  [[ -z $DOMAIN_NAME ]] || line="$line --domain-name $DOMAIN_NAME"
  [[ -z $HOSTED_ZONE_ID ]] || line="$line --hosted-zone-id $HOSTED_ZONE_ID"
  [[ -z $CERTIFICATE_ARN ]] || line="$line --certificate-arn $CERTIFICATE_ARN"
  [[ -z $CORS_ORIGINS ]] || line="$line --cors-origins $CORS_ORIGINS"
  [[ -z $ALARM_TOPIC_ARN ]] || line="$line --alarm-topic-arn $ALARM_TOPIC_ARN"
  if [[ $DATABASE == on ]]; then
    line="$line --pool-size $POOL_SIZE --db-instance-class $DB_INSTANCE_CLASS --max-connections $MAX_CONNECTIONS --storage $STORAGE --max-storage $MAX_STORAGE --multi-az $MULTI_AZ --deletion-protection $DELETION_PROTECTION"
  fi
  [[ -z $VPC_ID ]] || line="$line --vpc-id $VPC_ID --public-subnets $PUBLIC_SUBNETS${PRIVATE_SUBNETS:+ --private-subnets $PRIVATE_SUBNETS}"
  printf '%s' "$line"
}

# --------------------------------------------------------------------------------------------
# Service address and smoke test
# --------------------------------------------------------------------------------------------
# With the ALB the address is a stack output. Without it every task has its own public IP;
# this finds the first running one.
service_url() {
  local url ids tasks eni ip
  url=$(output "$SERVICE_STACK" Url)
  if [[ -n $url ]]; then
    printf '%s' "$url"
    return 0
  fi
  ids=$(service_ids) || return 0
  tasks=$(awsc ecs list-tasks --cluster "${ids%% *}" --service-name "${ids#* }" \
    --desired-status RUNNING --query 'taskArns' --output text 2>/dev/null) || tasks=""
  [[ -n $tasks && $tasks != None ]] || return 0
  # shellcheck disable=SC2086 # one argument per task ARN
  eni=$(awsc ecs describe-tasks --cluster "${ids%% *}" --tasks $tasks \
    --query "tasks[0].attachments[0].details[?name=='networkInterfaceId'].value | [0]" --output text 2>/dev/null) || eni=""
  [[ -n $eni && $eni != None ]] || return 0
  ip=$(awsc ec2 describe-network-interfaces --network-interface-ids "$eni" \
    --query 'NetworkInterfaces[0].Association.PublicIp' --output text 2>/dev/null) || ip=""
  if [[ -n $ip && $ip != None ]]; then printf 'http://%s:8080' "$ip"; fi
  return 0
}

# What to tell about DNS, and how the smoke test reaches a name that may not resolve yet.
CONNECT_TO=""
explain_dns() {
  local lb port=80
  [[ -n $DOMAIN_NAME ]] || return 0
  lb=$(require_output "$SERVICE_STACK" LoadBalancerDnsName)
  [[ -z $CERTIFICATE_ARN ]] || port=443
  CONNECT_TO="$lb:$port"
  if [[ -n $HOSTED_ZONE_ID ]]; then
    log "$DOMAIN_NAME is an alias record for the load balancer in hosted zone $HOSTED_ZONE_ID"
  else
    log "create this DNS record where $DOMAIN_NAME is hosted (no --hosted-zone-id given):"
    log "    $DOMAIN_NAME.  CNAME  $lb."
    log "(should you pass --hosted-zone-id later, the alias record it makes replaces this one: delete it first)"
  fi
}

run_smoke_test() {
  local url=$1
  if [[ -n $CONNECT_TO ]]; then
    if [[ $BUILT -eq 1 ]]; then
      "$SCRIPT_DIR/smoke.sh" "$url" --connect-to "$CONNECT_TO" --expect-revision "${GIT_REVISION:-$IMAGE_TAG}"
    else
      "$SCRIPT_DIR/smoke.sh" "$url" --connect-to "$CONNECT_TO"
    fi
  elif [[ $BUILT -eq 1 ]]; then
    "$SCRIPT_DIR/smoke.sh" "$url" --expect-revision "${GIT_REVISION:-$IMAGE_TAG}"
  else
    "$SCRIPT_DIR/smoke.sh" "$url"
  fi
}

# The account that writes load balancer access logs in the regions opened before August 2022;
# newer regions use the log delivery service principal (empty here).
elb_log_account() {
  case $REGION in
    us-east-1) echo 127311923021 ;; us-east-2) echo 033677994240 ;;
    us-west-1) echo 027434742980 ;; us-west-2) echo 797873946194 ;;
    af-south-1) echo 098369216593 ;; ap-east-1) echo 754344448648 ;;
    ap-southeast-3) echo 589379963580 ;; ap-south-1) echo 718504428378 ;;
    ap-northeast-3) echo 383597477331 ;; ap-northeast-2) echo 600734575887 ;;
    ap-southeast-1) echo 114774131450 ;; ap-southeast-2) echo 783225319266 ;;
    ap-northeast-1) echo 582318560864 ;; ca-central-1) echo 985666609251 ;;
    eu-central-1) echo 054676820928 ;; eu-west-1) echo 156460612806 ;;
    eu-west-2) echo 652711504416 ;; eu-south-1) echo 635631232127 ;;
    eu-west-3) echo 009996457667 ;; eu-north-1) echo 897822967062 ;;
    me-south-1) echo 076674570225 ;; sa-east-1) echo 507241528517 ;;
    *) echo "" ;;
  esac
}

# The PostgreSQL log that RDS exports: RDS creates its group without a retention (logs kept
# forever, and billed) and leaves it behind when the instance goes. Own it here.
POSTGRES_LOG_PREFIX=/aws/rds/instance
set_postgres_log_retention() {
  local instance group days out
  instance=$(require_output "$DATABASE_STACK" InstanceId)
  days=$(output "$DATABASE_STACK" LogRetentionInDays)
  [[ -n $days ]] || days=30
  group="$POSTGRES_LOG_PREFIX/$instance/postgresql"
  if ! out=$(awsc logs create-log-group --log-group-name "$group" 2>&1); then
    case $out in
      *ResourceAlreadyExists*) ;;
      *) die "could not create the log group $group: ${out//$'\n'/ }" ;;
    esac
  fi
  awsc logs put-retention-policy --log-group-name "$group" --retention-in-days "$days" ||
    die "could not set the retention of $group"
}

# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------
cmd_up() {
  local public_subnets private_subnets vpc_id repository_uri url zone_a="" zone_b=""
  local db_host="" db_port=5432 db_name=todo db_secret="" db_group="" need_docker=0 registry_ready=0
  local registry_status

  # Everything that can be checked is checked before anything is created.
  [[ $SMOKE -eq 0 ]] || command -v curl >/dev/null 2>&1 || die "curl is needed for the smoke test (or pass --no-smoke)"
  if [[ -z $IMAGE_TAG ]]; then
    command -v git >/dev/null 2>&1 || die "git is needed to tag the image with the revision (or pass --image-tag)"
    GIT_REVISION=$(git_tag) || exit 1
  fi
  check_credentials
  load_deployed
  apply_remembered
  apply_defaults
  validate
  check_connection_budget
  choose_desired_count
  # One commit gives one image per architecture: the tag says which, so that `up --arch arm64`
  # after an x86_64 deployment of the same commit builds an arm64 image instead of running the
  # x86_64 one ("exec format error").
  [[ -n $IMAGE_TAG ]] || IMAGE_TAG="$GIT_REVISION-$ARCH"
  check_certificate
  check_dns_record
  choose_snapshot
  find_cloudfront_prefix_list
  if [[ $ALB == off ]]; then
    warn "--alb off: the app is served over plain HTTP on each task's address; passwords and session cookies cross the internet in clear"
  elif [[ $HTTPS == off ]]; then
    warn "--https off: the app is served over plain HTTP; passwords and session cookies cross the internet in clear (--https on serves HTTPS through CloudFront)"
  elif cloudfront_in_front; then
    warn "HTTPS through CloudFront on its *.cloudfront.net name: web pages and the API work, calendar apps do not (CloudFront refuses CalDAV's PROPFIND, REPORT, PROPPATCH and MKCALENDAR); for them deploy with --domain-name and --certificate-arn (docs/deploy.md, \"HTTPS\")"
  fi
  # The image can be looked for only in a repository that exists (not one whose stack failed).
  registry_status=$(stack_status "$REGISTRY_STACK") || exit 1
  case $registry_status in
    CREATE_COMPLETE | UPDATE_COMPLETE | UPDATE_ROLLBACK_COMPLETE) registry_ready=1 ;;
  esac
  if [[ $SKIP_BUILD -eq 0 ]]; then
    if [[ $registry_ready -eq 1 ]] && image_exists "$IMAGE_TAG"; then need_docker=0; else need_docker=1; fi
    [[ $need_docker -eq 0 ]] || check_docker
  elif [[ $registry_ready -eq 1 ]] && ! image_exists "$IMAGE_TAG"; then
    die "image tag '$IMAGE_TAG' is not in repository $REPOSITORY_NAME: push it first or drop --skip-build"
  fi
  log "options: $(options_line)"

  ensure_service_linked_role ecs.amazonaws.com AWSServiceRoleForECS
  ensure_service_linked_role ecs.application-autoscaling.amazonaws.com AWSServiceRoleForApplicationAutoScaling_ECSService

  # 1. Network (unless the caller brings their own).
  if [[ -n $VPC_ID ]]; then
    vpc_id=$VPC_ID public_subnets=$PUBLIC_SUBNETS private_subnets=$PRIVATE_SUBNETS
  else
    if [[ -z $ZONES ]] && ! stack_exists "$NETWORK_STACK"; then
      ZONES=$(pick_zones)
      log "Availability Zones: $ZONES"
    fi
    if [[ -n $ZONES ]]; then zone_a=${ZONES%%,*} zone_b=${ZONES#*,}; fi
    deploy_stack "$NETWORK_STACK" network.yaml "AvailabilityZoneA=$zone_a" "AvailabilityZoneB=$zone_b"
    vpc_id=$(require_output "$NETWORK_STACK" VpcId)
    public_subnets=$(require_output "$NETWORK_STACK" PublicSubnets)
    private_subnets=$(require_output "$NETWORK_STACK" PrivateSubnets)
  fi

  # 2. Registry, then the image in it.
  deploy_stack "$REGISTRY_STACK" registry.yaml "RepositoryName=$REPOSITORY_NAME"
  repository_uri=$(require_output "$REGISTRY_STACK" RepositoryUri)
  TEMPLATE_BUCKET=$(require_output "$REGISTRY_STACK" TemplateBucket)
  build_and_push "$repository_uri" "$IMAGE_TAG"

  # 3. Database.
  if [[ $DATABASE == on ]]; then
    deploy_stack "$DATABASE_STACK" database.yaml \
      "VpcId=$vpc_id" "SubnetIds=$private_subnets" \
      "DBInstanceClass=$DB_INSTANCE_CLASS" "MaxConnections=$MAX_CONNECTIONS" \
      "AllocatedStorage=$STORAGE" "MaxAllocatedStorage=$MAX_STORAGE" \
      "MultiAZ=$(tf "$MULTI_AZ")" "DeletionProtection=$(tf "$DELETION_PROTECTION")" \
      "ConnectionsAlarmThreshold=$(((EFFECTIVE_MAX_CONNECTIONS - 10) * 9 / 10))" \
      "AlarmTopicArn=$ALARM_TOPIC_ARN" ${SNAPSHOT_ID:+"SnapshotIdentifier=$SNAPSHOT_ID"}
    db_host=$(require_output "$DATABASE_STACK" Host)
    db_port=$(require_output "$DATABASE_STACK" Port)
    db_name=$(require_output "$DATABASE_STACK" DBName)
    db_secret=$(require_output "$DATABASE_STACK" SecretArn)
    db_group=$(require_output "$DATABASE_STACK" ClientSecurityGroup)
    set_postgres_log_retention
    if [[ $DATABASE_NEEDS_REBOOT -eq 1 && $REBOOT_DATABASE -eq 1 ]]; then
      log "rebooting the database so that max_connections $MAX_CONNECTIONS applies"
      awsc rds reboot-db-instance --db-instance-identifier "$(require_output "$DATABASE_STACK" InstanceId)" >/dev/null
      awsc rds wait db-instance-available --db-instance-identifier "$(require_output "$DATABASE_STACK" InstanceId)" ||
        die "the database did not come back after the reboot; see the RDS console"
    fi
  elif stack_exists "$DATABASE_STACK"; then
    warn "--database off: the service will use SQLite, but stack $DATABASE_STACK still exists (and costs money); 'down' deletes it"
  fi

  # 4. Service. CloudFormation waits until the ECS service is stable (all new tasks healthy),
  #    and the circuit breaker rolls back a deployment whose tasks never get healthy.
  deploy_stack "$SERVICE_STACK" service.yaml \
    "VpcId=$vpc_id" "PublicSubnetIds=$public_subnets" \
    "RepositoryName=$REPOSITORY_NAME" "ImageTag=$IMAGE_TAG" \
    "DesiredCount=$DESIRED_COUNT" "MinCount=$MIN_COUNT" "MaxCount=$MAX_COUNT" \
    "Cpu=$CPU" "Memory=$MEMORY" "CpuArchitecture=$(printf '%s' "$ARCH" | tr '[:lower:]' '[:upper:]')" \
    "EnableSpot=$(tf "$SPOT")" \
    "EnableLoadBalancer=$(tf "$ALB")" "CertificateArn=$CERTIFICATE_ARN" \
    "EnableCloudFront=$(tf "$HTTPS")" "CloudFrontPrefixListId=$PREFIX_LIST_ID" \
    "DomainName=$DOMAIN_NAME" "HostedZoneId=$HOSTED_ZONE_ID" \
    "EnableAccessLogs=$(tf "$ACCESS_LOGS")" "ElbLogAccount=$(elb_log_account)" "EnableWaf=$(tf "$WAF")" \
    "EnableExecuteCommand=$(tf "$EXEC")" \
    "AuthMode=$AUTH_MODE" "Signup=$SIGNUP" "CorsOrigins=$CORS_ORIGINS" \
    "DatabaseHost=$db_host" "DatabasePort=$db_port" "DatabaseName=$db_name" \
    "DatabaseSecretArn=$db_secret" "DatabaseClientSecurityGroup=$db_group" \
    "DatabasePoolSize=$POOL_SIZE" "AlarmTopicArn=$ALARM_TOPIC_ARN"

  [[ $ALB == off ]] || explain_dns
  url=$(service_url)
  if [[ $SMOKE -eq 1 ]]; then
    [[ -n $url ]] || die "no address found for the service to smoke test (see 'status')"
    run_smoke_test "$url"
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
  local stack ids
  check_credentials
  local status
  for stack in "$NETWORK_STACK" "$REGISTRY_STACK" "$DATABASE_STACK" "$SERVICE_STACK"; do
    status=$(stack_status "$stack") || exit 1
    printf '%-32s %s\n' "$stack" "$status"
  done
  if stack_exists "$SERVICE_STACK"; then
    load_deployed
    apply_remembered
    apply_defaults
    printf 'options: %s\n' "$(options_line)"
    if ids=$(service_ids); then
      awsc ecs describe-services --cluster "${ids%% *}" --services "${ids#* }" \
        --query 'services[0].{running:runningCount,desired:desiredCount,pending:pendingCount,rollout:deployments[0].rolloutState,taskDefinition:taskDefinition}' \
        --output table || true
    fi
    printf 'image: %s:%s\n' "$(output "$SERVICE_STACK" RepositoryUri)" "$(output "$SERVICE_STACK" ImageTag)"
    printf 'url:   %s\n' "$(service_url)"
    if [[ -n $DOMAIN_NAME && -z $HOSTED_ZONE_ID ]]; then
      printf 'dns:   %s. CNAME %s. (create it where the name is hosted)\n' "$DOMAIN_NAME" "$(output "$SERVICE_STACK" LoadBalancerDnsName)"
    fi
    printf 'logs:  %s\n' "$(output "$SERVICE_STACK" LogGroupName)"
    show_service_problems
  fi
}

# confirm QUESTION: go on only after a "y" at the terminal, or with --yes.
confirm() {
  local answer=""
  [[ $YES -eq 0 ]] || return 0
  [[ -t 0 ]] || die "not at a terminal to confirm \"$1\": pass --yes to go ahead"
  printf '%s [y/N] ' "$1" >&2
  read -r answer || answer=""
  case $answer in
    y | Y | yes | Yes | YES) return 0 ;;
  esac
  die "stopped; nothing was deleted"
}

cmd_down() {
  local protected="" instance="" bucket="" templates="" stack stacks=""
  check_credentials
  for stack in "$SERVICE_STACK" "$DATABASE_STACK" "$NETWORK_STACK"; do
    if stack_exists "$stack"; then stacks="$stacks $stack"; fi
  done
  if stack_exists "$DATABASE_STACK"; then
    protected=$(awsc cloudformation describe-stacks --stack-name "$DATABASE_STACK" \
      --query "Stacks[0].Parameters[?ParameterKey=='DeletionProtection'].ParameterValue | [0]" --output text) ||
      die "could not read the parameters of $DATABASE_STACK"
    instance=$(output "$DATABASE_STACK" InstanceId)
  fi
  if [[ -n $stacks ]]; then
    log "down deletes the stacks$stacks in $REGION"
    if [[ -n $instance ]]; then
      log "with the database $instance; RDS keeps a final snapshot of it ('up --restore-snapshot latest' brings it back)"
    fi
    if [[ $protected == true ]]; then
      log "the database has deletion protection; down turns it off first (the final snapshot is still taken)"
    fi
    confirm "Delete$stacks?"
  fi
  # Turned off directly on the instance: updating the stack to do it would redeploy it, and
  # the stack is deleted next anyway. DeletionPolicy Snapshot still takes the final snapshot.
  if [[ $protected == true && -n $instance ]]; then
    log "turning off deletion protection of database $instance"
    awsc rds modify-db-instance --db-instance-identifier "$instance" --no-deletion-protection --apply-immediately >/dev/null ||
      die "could not turn off the deletion protection of database $instance"
    awsc rds wait db-instance-available --db-instance-identifier "$instance" ||
      die "database $instance did not become available after turning off its deletion protection"
  fi
  if stack_exists "$SERVICE_STACK"; then bucket=$(output "$SERVICE_STACK" AccessLogsBucket); fi
  delete_stack "$SERVICE_STACK"
  delete_stack "$DATABASE_STACK"
  if [[ -n $instance ]]; then
    awsc logs delete-log-group --log-group-name "$POSTGRES_LOG_PREFIX/$instance/postgresql" 2>/dev/null || true
  fi
  delete_stack "$NETWORK_STACK"
  log "deleted the service, database and network stacks"
  if stack_exists "$REGISTRY_STACK"; then templates=$(output "$REGISTRY_STACK" TemplateBucket); fi
  log "kept: ECR repository $REPOSITORY_NAME with its images (stack $REGISTRY_STACK), to redeploy any revision later."
  log "      To remove it: aws ecr delete-repository --force --repository-name $REPOSITORY_NAME --region $REGION${templates:+ && aws s3 rm --recursive s3://$templates --region $REGION} && aws cloudformation delete-stack --stack-name $REGISTRY_STACK --region $REGION"
  if [[ -n $instance ]]; then
    log "kept: a final snapshot of database $instance (DeletionPolicy Snapshot). List it with:"
    log "      aws rds describe-db-snapshots --db-instance-identifier $instance --region $REGION"
  fi
  if [[ -n $bucket ]]; then
    log "kept: the access log bucket $bucket. To remove it: aws s3 rb --force s3://$bucket --region $REGION"
  fi
}

case $COMMAND in
  up) cmd_up ;;
  status) cmd_status ;;
  down) cmd_down ;;
esac
