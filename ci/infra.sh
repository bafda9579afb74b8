#!/usr/bin/env bash
# Checks of the AWS deployment: templates, deploy script, and a deployment to a local emulator.
#
#   cfn-lint    every template under deploy/: no errors, no warnings
#   checkov     the templates (and the root Dockerfile when there is one): no failed checks;
#               every skip is justified inline in the template
#   ShellCheck  every shell script of the deployment and CI
#   moto        tests/infra: deploy.sh against moto on 127.0.0.1, four combinations
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

passed=0
failed=0
failures=()
step() {
  local name=$1
  shift
  printf '\n== %s\n' "$name"
  if "$@"; then
    passed=$((passed + 1))
    printf -- '-- %s: ok\n' "$name"
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf -- '-- %s: FAILED\n' "$name"
  fi
}

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
scripts=(deploy/*.sh ci/infra.sh)

step "cfn-lint (${#templates[@]} templates)" cfn-lint "${templates[@]}"

checkov_targets=(-d deploy --framework cloudformation)
step "checkov templates" checkov --quiet --compact --skip-download "${checkov_targets[@]}"
if [[ -f Dockerfile ]]; then
  step "checkov Dockerfile" checkov --quiet --compact --skip-download --framework dockerfile -f Dockerfile
fi

step "shellcheck (${#scripts[@]} scripts)" shellcheck "${scripts[@]}"

# The emulator deployment is bounded: moto answers in seconds, the whole suite takes minutes.
step "deploy to moto (tests/infra)" timeout 1500 \
  python -m pytest -q -p no:cacheprovider tests/infra

printf '\n'
for f in "${failures[@]}"; do printf 'failed: %s\n' "$f"; done
printf 'infra: %d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
