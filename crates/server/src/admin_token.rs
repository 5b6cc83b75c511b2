//! The local administrator's token: `konferenz serve` writes a fresh one at every start to
//! a file only the server's user can read (mode 0600, beside the database); the CLI
//! commands that talk to the running server (`invite`, `participants`, `hangup`, `mute`,
//! `room lock` …) read it and send it as a bearer token. Whoever cannot read the file
//! needs an API token or a login like everybody else.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;

/// Writes a new token to `path` (replacing the old one) and returns its SHA-256.
pub fn write(path: &Path) -> anyhow::Result<[u8; 32]> {
    let token = crate::api::secret("kfz_local_");
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the folder of {}", path.display()))?;
    }
    let temp = path.with_extension("part");
    let _ = std::fs::remove_file(&temp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .with_context(|| format!("writing the admin token file {}", temp.display()))?;
    file.write_all(token.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path)
        .with_context(|| format!("writing the admin token file {}", path.display()))?;
    Ok(crate::api::hash(&token))
}

/// The token in `path`, for the CLI.
pub fn read(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the admin token {} (is the server running, and are you its user?)",
            path.display()
        )
    })?;
    Ok(text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_token_file_is_private_and_replaced_at_each_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/admin-token");
        let first = write(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let token = read(&path).unwrap();
        assert_eq!(crate::api::hash(&token), first);
        let second = write(&path).unwrap();
        assert_ne!(first, second);
    }
}
