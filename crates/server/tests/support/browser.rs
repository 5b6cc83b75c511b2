//! Where the headless-Chromium tests live and leave their screenshots, and the check that
//! Debian's chromium and playwright-core are installed (by scripts/test).

use std::path::{Path, PathBuf};

/// The Playwright scripts and their `node_modules`: `tests/browser/`.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Where the screenshots go (kept after the test): `target/browser-artifacts/`.
pub fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// Fails the test with what to run when the browser or its driver is missing.
pub fn require() {
    assert!(
        dir().join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run scripts/test (or npm ci in {})",
        dir().display()
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is missing: run scripts/test"
    );
}
