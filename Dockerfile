# todo-app container image: a release build in a pinned Rust image, shipped in
# an image that holds nothing but the binary, the C libraries it links, CA
# certificates and a data directory (about 26 MB; docs/container.md).
#
#   docker build --build-arg GIT_REVISION=$(git rev-parse --short=12 HEAD) -t todo-app .
#   docker run -p 8080:8080 todo-app
#
# Plain Dockerfile syntax on purpose: no `# syntax=` line (that would pull a
# frontend image at build time) and no `RUN --mount=type=cache` (the classic
# builder and some CI services lack it). Dependency builds are cached with the
# portable "dummy main" layer below instead, which every builder caches.

# ---------------------------------------------------------------------------
# Builder. The tag pins the toolchain to the one CI and developers use
# (`rustc --version`); bump them together. Tag, not digest: CI has no
# registry and recreates this image locally under the same name
# (ci/container.sh), so no digest could match there.
FROM docker.io/library/rust:1.95-slim-bookworm AS builder

# bash for pipefail: a failing `ldd` must fail the build, not silently ship
# an image without its libraries.
SHELL ["/bin/bash", "-o", "errexit", "-o", "nounset", "-o", "pipefail", "-c"]

WORKDIR /build

# 1. Dependencies only. With just the manifests and empty targets, this layer
#    compiles every crate in Cargo.lock and is reused until Cargo.toml or
#    Cargo.lock changes; a source edit then rebuilds only our own crate
#    (about a minute instead of many).
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# 2. The application. .dockerignore admits only the manifests, build.rs, src/,
#    migrations/ (embedded at compile time) and container/ (step 3's
#    script), so `COPY . .` is exactly the crate and its packaging. The dummy
#    targets above are newer than the copied sources, whose mtimes come from
#    the checkout: touch them or cargo would keep the empty binary.
COPY . .
# build.rs bakes this into /version (.git is not in the context).
ARG GIT_REVISION=unknown
RUN touch src/main.rs src/lib.rs build.rs \
    && cargo build --release --locked \
    # Fails if the empty binary from step 1 survived.
    && ./target/release/todo-app --version | grep '^todo-app '

# 3. Assemble the runtime filesystem in /rootfs.
#
#    Why not a base image: debian:bookworm-slim is about 75 MB before our
#    binary (the target is under 30 MB); distroless/cc would do but is one
#    more registry image to trust and mirror. Why not a static binary: musl
#    needs another Rust target and has a slow allocator; static glibc breaks
#    getaddrinfo (NSS), and the app resolves RDS and AWS endpoint names.
#
#    So: the dynamically linked glibc binary plus exactly the shared
#    libraries `ldd` lists (libc, libm, libgcc_s, the loader: about 3 MB),
#    taken from this very builder so they match what we linked against, at
#    the paths the loader looks in. Using ldd rather than a fixed list keeps
#    this right on arm64 (Graviton) and if a dependency ever links another
#    system library. container/rootfs.sh does it, with the CA certificates,
#    the non-root user 10001 and its /data; CI runs the same script on the
#    release binary it has already built (ci/container.sh).
RUN bash container/rootfs.sh target/release/todo-app /rootfs

# ---------------------------------------------------------------------------
# Runtime: scratch, so there is no base image to pin or patch; everything in
# it comes from the pinned builder above. No shell, no package manager.
FROM scratch

COPY --from=builder /rootfs/ /

# Numeric, so orchestrators (runAsNonRoot, ECS) can verify it is not root.
USER 10001:10001
WORKDIR /data
ENV DATABASE_URL=sqlite:///data/todo.db \
    HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080

# No curl in here: the binary probes its own /healthz (it reads PORT too).
# ECS ignores image health checks; the task definition carries its own,
# which should run the same command.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/todo-app", "healthcheck"]

# SIGTERM (the default stop signal) drains for SHUTDOWN_DRAIN_DELAY (5 s),
# then waits up to SHUTDOWN_TIMEOUT (20 s): give `docker stop` a timeout
# above 25 s (ECS stopTimeout defaults to 30 s).
ENTRYPOINT ["/usr/local/bin/todo-app"]
CMD ["serve"]

ARG GIT_REVISION=unknown
LABEL org.opencontainers.image.title="todo-app" \
      org.opencontainers.image.description="Todo list web app and JSON API" \
      org.opencontainers.image.revision="${GIT_REVISION}"
