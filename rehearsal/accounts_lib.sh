#!/usr/bin/env bash
# Helpers of the accounts benchmarks (auth_bench.sh, auth_cost.sh). Sourced,
# not run; the caller defines `url PATH` and the scratch folder `$work`.

token_for() { # token_for NAME: signs up through the form, returns a token
    local jar=${work:?}/jar csrf
    rm -f "$jar"
    csrf=$(curl -fsS -c "$jar" "$(url /signup)" | sed -n 's/.*name="csrf_token" value="\([0-9a-f]*\)".*/\1/p' | head -n1)
    curl -fsS -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf_token=$csrf" \
        --data-urlencode "username=$1" --data-urlencode "password=bench passphrase" "$(url /signup)"
    curl -fsS -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"bench passphrase\",\"name\":\"bench\"}" "$(url /api/tokens)" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

seed() { # seed HEADER: 100 tasks; prints the id of the 50th
    local id='' got i
    for i in $(seq 100); do
        got=$(curl -fsS -H "$1" -H 'content-type: application/json' -d "{\"title\":\"task $i\"}" "$(url /api/todos)" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
        [ "$i" = 50 ] && id=$got
    done
    echo "$id"
}
