#!/usr/bin/env bash
# Checks of the AWS deployment: templates, deploy script, and a deployment to a local emulator.
#
#   cfn-lint    every template under deploy/: no errors, no warnings
#   checkov     the templates (and the root Dockerfile when there is one): no failed checks;
#               every skip is justified inline in the template
#   ShellCheck  every script under deploy/ and ci/: the deployment's own at every severity,
#               the others at warning and above
#   pytest      tests/infra: template rules over every ALB x database x certificate rendering,
#               IAM policies linted with parliament, bash 3.2 portability, the smoke test
#               against a stand-in server, and deploy.sh against moto on 127.0.0.1 (four
#               combinations, a fresh account through its life, and the failures a real
#               deployment meets: stuck stacks, AWS errors, architectures, rollbacks, protected
#               databases, certificates and DNS records)
#
# Runs from a fresh clone as root on Debian 12, idempotently: apt packages are installed only
# when missing, the Python tools live in a cached virtualenv keyed by the requirements file.
# Prints "infra: N passed, M failed" last and exits non-zero when anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/todo-app-ci
REQUIREMENTS=tests/infra/requirements.txt
VENV=$CACHE/venv-$(sha256sum "$REQUIREMENTS" | cut -c1-12)

# shellcheck source=ci/lib.sh
. ci/lib.sh

# --- tools ---------------------------------------------------------------------------------
if ! command -v shellcheck >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
fi
if [[ ! -x $VENV/bin/pytest ]]; then
  mkdir -p "$CACHE"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi
export PATH=$VENV/bin:$PATH

# --- checks --------------------------------------------------------------------------------
templates=(deploy/*.yaml)
own_scripts=(deploy/*.sh ci/infra.sh ci/smoke.sh ci/lib.sh)
all_scripts=(ci/*.sh deploy/*.sh)

step "cfn-lint (${#templates[@]} templates)" cfn-lint "${templates[@]}"

checkov_targets=(-d deploy --framework cloudformation)
step "checkov templates" checkov --quiet --compact --skip-download "${checkov_targets[@]}"
if [[ -f Dockerfile ]]; then
  step "checkov Dockerfile" checkov --quiet --compact --skip-download --framework dockerfile -f Dockerfile
fi

step "shellcheck (${#own_scripts[@]} deployment scripts, every severity)" shellcheck -x "${own_scripts[@]}"
step "shellcheck (${#all_scripts[@]} scripts under ci/ and deploy/, warnings)" shellcheck -x --severity=warning "${all_scripts[@]}"

step "template rules, IAM lint, bash 3.2, smoke test (tests/infra)" timeout 600 \
  python -m pytest -q -p no:cacheprovider tests/infra/test_templates.py tests/infra/test_iam.py \
  tests/infra/test_bash_portability.py tests/infra/test_smoke.py
# The emulator deployments are bounded: moto answers in seconds, the whole suite takes minutes.
step "deploy to moto (tests/infra)" timeout 2400 \
  python -m pytest -q -p no:cacheprovider tests/infra/test_deploy_moto.py tests/infra/test_deploy_lifecycle.py \
  tests/infra/test_deploy_failures.py

summary infra
