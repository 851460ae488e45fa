//! The data directory's files are its owner's alone: the directory `0700`, each file
//! `0600` (the database, the signing key, the demo credentials, the test clock). They
//! hold who may do what and the credentials themselves.

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;

/// The data directory, created `0700`; an existing one is made `0700`.
pub fn private_dir(path: &Path) -> anyhow::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::fs::set_permissions(path, Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", path.display()))
}

/// Writes `bytes` to `path`, the file `0600` (created so, never readable by others
/// even for a moment), whole or not at all: the bytes go to a new file beside it, which
/// then takes its name. A process killed midway leaves the old file as it was (a
/// truncated `secrets.json` once kept the server from starting again).
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let temporary = path.with_file_name(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        // The rename itself outlives a power cut once the directory is synced.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.with_context(|| format!("writing {}", path.display()))
}

/// Makes an existing file `0600`.
pub fn restrict(path: &Path) -> anyhow::Result<()> {
    std::fs::set_permissions(path, Permissions::from_mode(0o600))
        .with_context(|| format!("restricting {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_only_its_owner_reads() {
        let dir = std::env::temp_dir().join(format!("tempaccess-files-{}", std::process::id()));
        private_dir(&dir).unwrap();
        let file = dir.join("secret");
        std::fs::write(&file, "open").unwrap();
        std::fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();
        write_private(&file, b"closed").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "closed");
        // Written whole beside it, then renamed: nothing else is left behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secret"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
