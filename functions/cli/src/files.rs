//! The data directory's files are its owner's alone: the directory `0700`, each file
//! `0600` (the database, the signing key, the demo credentials, the test clock). They
//! hold who may do what and the credentials themselves.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

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
/// even for a moment).
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    // A file made by an older build keeps its mode through `open`: set it.
    file.set_permissions(Permissions::from_mode(0o600))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))
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
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
