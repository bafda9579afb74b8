#!/usr/bin/env bash
# Assembles the container image's whole filesystem in ROOTFS around a release
# binary: the binary, exactly the shared libraries `ldd` lists for it (taken
# from the machine that runs this, so they match what it was linked
# against), CA certificates, a named non-root user and the data directory.
#
#   container/rootfs.sh BINARY ROOTFS      # as root (it chowns /data)
#
# The Dockerfile's builder stage runs it on the binary it just built; CI
# (ci/container.sh) runs it on the release binary it already has, on the
# same Debian release as the builder image. The Dockerfile explains the
# choices (why scratch plus these files, why not a static binary).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BINARY ROOTFS" >&2
    exit 2
fi
binary=$1
rootfs=$2
APP_UID=10001

install -D -m 0755 "$binary" "$rootfs/usr/local/bin/todo-app"

# libc, libm, libgcc_s and the loader, at the paths the loader looks in.
# glibc >= 2.34 has the `files` and `dns` lookups built in: no libnss_*.
# A failing ldd must fail the build, not ship an image without libraries.
ldd_output=$(ldd "$binary")
mapfile -t libraries < <(grep -o '/[^ ]*' <<<"$ldd_output")
if [[ ${#libraries[@]} -eq 0 ]]; then
    echo "ldd lists no libraries for $binary:" >&2
    echo "$ldd_output" >&2
    exit 1
fi
for library in "${libraries[@]}"; do
    cp --parents --dereference "$library" "$rootfs/"
done

# HTTPS to AWS (Secrets Manager) and to PostgreSQL with sslmode=require.
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"

# A named, non-root user with a fixed uid, so `USER 10001` is provably not
# root and files on volumes have a stable owner.
printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:%s:%s:todo-app:/data:/sbin/nologin\n' \
    "$APP_UID" "$APP_UID" >"$rootfs/etc/passwd"
printf 'root:x:0:\napp:x:%s:\n' "$APP_UID" >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

# SQLite spills big sorts to a temp dir; give it the usual one.
install -d -m 1777 "$rootfs/tmp"
# The SQLite default lives here; the app user owns it. Copying the tree
# into an image (COPY --from) keeps this ownership.
install -d -m 0750 -o "$APP_UID" -g "$APP_UID" "$rootfs/data"
