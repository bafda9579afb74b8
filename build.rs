//! Records the git revision for `/version` (a build from a tarball or a
//! Docker context without `.git` can pass it in as `GIT_REVISION`), and
//! tells the tests which outside services they have.
//!
//! Why the tests learn that here: libtest decides "ignored" at compile time
//! (`#[ignore]`) and has no way for a running test to report itself skipped,
//! so a test that found no PostgreSQL and returned early was counted as
//! passed. With the cfgs below, the tests that need a service carry
//! `#[cfg_attr(not(postgres_tests), ignore = "…")]` and `cargo test` reports
//! them as ignored when it is missing. Cargo reruns this script (and
//! recompiles the crate) when the variables change, so the cfg always
//! matches what `cargo test` runs with. The rejected alternatives: a custom
//! harness (libtest-mimic) for runtime skips, or `cargo nextest`, each one
//! more thing every contributor has to know about.
use std::process::Command;

/// `cfg` name, the variable that turns it on, and what it needs: in CI
/// (`CI` set) every cfg is on, so a missing service fails the tests there
/// instead of hiding them.
const SERVICES: [(&str, &str); 2] = [
    // PostgreSQL that tests may create databases on.
    ("postgres_tests", "TEST_DATABASE_URL"),
    // A local Secrets Manager (ci/moto.sh) for the credential-rotation tests.
    ("secrets_tests", "TEST_SECRETS_ENDPOINT"),
];

fn main() {
    println!("cargo:rerun-if-env-changed=GIT_REVISION");
    println!("cargo:rerun-if-changed=build.rs");
    // Where git keeps them: in a linked worktree `.git` is a file, and a
    // missing path would make cargo rebuild the crate on every build.
    for path in ["HEAD", "refs", "packed-refs"] {
        if let Some(path) = git(&["rev-parse", "--git-path", path])
            && std::path::Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    let revision = std::env::var("GIT_REVISION")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=GIT_REVISION={revision}");

    println!("cargo:rerun-if-env-changed=CI");
    // Set at all, as tests/api/helpers.rs reads it.
    let in_ci = std::env::var_os("CI").is_some();
    for (cfg, variable) in SERVICES {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo:rerun-if-env-changed={variable}");
        let configured = std::env::var_os(variable).is_some_and(|v| !v.is_empty());
        if configured || in_ci {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}

/// `git ARGS` in the package's directory, its trimmed output when it succeeds.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
