"""The deployment scripts run on the bash that people have: macOS ships bash 3.2.

No bash 3.2 can be installed here (Debian has only bash 5), so the chosen behaviour, "works on
3.2", is pinned by what the scripts may not contain: arrays (under `set -u`, bash before 4.4
treats an empty "${a[@]}" as an unbound variable, and every AWS call used to pass one) and
anything bash 4 or later added. Each rule is a pattern with the version that introduced it.
The scripts also stop at start on bash older than 3.2.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SCRIPTS = sorted(DEPLOY.glob("*.sh"))

RULES = [
    (r"\$\{!?[A-Za-z_][A-Za-z0-9_]*\[[@*]\]", 'array expansion "${a[@]}" (unbound when empty before bash 4.4)'),
    (r"(^|[\s;(])[A-Za-z_][A-Za-z0-9_]*\+?=\(", "array assignment a=(...)"),
    (r"\b(local|declare|typeset|readonly)\s+-[a-zA-Z]*[aAgn]", "declare/local -a/-A/-g/-n (arrays, 4.2, 4.3)"),
    (r"\b(mapfile|readarray|coproc)\b", "mapfile/readarray/coproc (bash 4.0)"),
    (r"\$\{[A-Za-z_][A-Za-z0-9_]*(,,?|\^\^?)[^}]*\}", "case modification ${x,,} ${x^^} (bash 4.0)"),
    (r";;&|;&", "case fall-through ;& ;;& (bash 4.0)"),
    (r"&>>|\|&", "&>> and |& (bash 4.0)"),
    (r"\[\[\s+-v\s", "[[ -v name ]] (bash 4.2)"),
    (r"\bwait\s+-n\b", "wait -n (bash 4.3)"),
    (r"\b(EPOCHSECONDS|EPOCHREALTIME|BASHPID)\b", "EPOCHSECONDS/EPOCHREALTIME/BASHPID (4.0, 5.0)"),
    (r"shopt\s+-s\s+(globstar|inherit_errexit|lastpipe|autocd)", "shopt globstar/inherit_errexit/lastpipe (4.x)"),
    (r"\{[A-Za-z_][A-Za-z0-9_]*\}[<>]", "file descriptor allocation {fd}> (bash 4.1)"),
    (r"printf\s+['\"]%\(", "printf %(...)T (bash 4.2)"),
]


def code_lines(path):
    """The lines of a script without comments and without here-document bodies."""
    lines = path.read_text().splitlines()
    out, heredoc = [], None
    for number, line in enumerate(lines, 1):
        if heredoc:
            if line.strip() == heredoc:
                heredoc = None
            continue
        start = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", line)
        if start:
            heredoc = start.group(1)
        if line.lstrip().startswith("#"):
            continue
        out.append((number, line))
    return out


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_bash4_features(script):
    problems = []
    for number, line in code_lines(script):
        if "BASH_VERSINFO[" in line:
            continue  # the version check itself reads one element
        for pattern, what in RULES:
            if re.search(pattern, line):
                problems.append(f"{script.name}:{number}: {what}: {line.strip()}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_strict_mode(script):
    assert "set -euo pipefail" in script.read_text()


def test_deploy_refuses_bash_older_than_3_2():
    text = (DEPLOY / "deploy.sh").read_text()
    check = text.index('BASH_VERSINFO[0]')
    assert check < text.index("usage()"), "the version check must come before anything else runs"
    assert "needs bash 3.2 or later" in text


def test_the_rules_catch_what_broke_on_macos():
    """The rules can fail: the old way every AWS call was made is caught."""
    old = 'awsc() {\n  local endpoint=()\n  aws --region "$REGION" "${endpoint[@]}" "$@"\n}\n'
    found = [what for _, line in enumerate(old.splitlines()) for pattern, what in RULES if re.search(pattern, line)]
    assert any("array expansion" in w for w in found) and any("array assignment" in w for w in found)
    assert any("case modification" in w for _, l in [(0, 'x=${REGION^^}')] for p, w in RULES if re.search(p, l))
    assert not [w for p, w in RULES if re.search(p, 'zone_a=${ZONES%%,*} picked="$picked${picked:+,}$name"')]
