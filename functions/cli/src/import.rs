//! `tempaccess entries import FILE`: writes entries (and, optionally, the people who
//! use them) from a JSON file into SQLite or DynamoDB. Every entry is checked before
//! anything is written.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use serde::Deserialize;
use tempaccess_core::entry::{Entry, EntryKind, PermissionSet, User, default_presets};
use tempaccess_core::ids::{Email, EntryId, PermissionSetId};
use tempaccess_core::system::SystemClock;
use tempaccess_core::timing::AccessDuration;

use crate::backend::{self, Backend};

/// The file: entries, and optionally users.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    /// People (their roles; `admin` for admins).
    #[serde(default)]
    pub users: Vec<User>,
    /// The entries.
    pub entries: Vec<EntrySpec>,
}

/// One entry as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySpec {
    id: EntryId,
    name: String,
    kind: EntryKind,
    #[serde(default)]
    folder: String,
    approvers: Vec<Email>,
    /// Defaults to the built-in "View password/Execute rights".
    #[serde(default)]
    permission_sets: Option<Vec<PermissionSet>>,
    /// Defaults to 15 min, 1 h, 4 h and 8 h, those within the maximum.
    #[serde(default)]
    duration_presets_seconds: Option<Vec<i64>>,
    max_duration_seconds: i64,
    #[serde(default)]
    message_required: bool,
    /// The credential's secret (a Secrets Manager ARN on AWS).
    #[serde(default)]
    secret_ref: Option<String>,
    /// Whether the credential is rotated at a grant's end (its secret has rotation
    /// configured by its owner). Unset: not rotated, and said so.
    #[serde(default)]
    rotates: bool,
}

impl EntrySpec {
    /// The checked entry; errors name the entry and the field.
    pub fn into_entry(self) -> anyhow::Result<Entry> {
        let id = self.id.clone();
        let max = AccessDuration::from_seconds(self.max_duration_seconds, "max_duration_seconds")
            .with_context(|| format!("entry {id}"))?;
        let duration_presets = match self.duration_presets_seconds {
            None => default_presets(max),
            Some(list) => list
                .into_iter()
                .map(|s| AccessDuration::from_seconds(s, "duration_presets_seconds"))
                .collect::<Result<_, _>>()
                .with_context(|| format!("entry {id}"))?,
        };
        let entry = Entry {
            id: self.id,
            name: self.name,
            kind: self.kind,
            folder: self.folder,
            approvers: self.approvers,
            permission_sets: self
                .permission_sets
                .unwrap_or_else(|| vec![PermissionSet::view_password_execute()]),
            duration_presets,
            max_duration: max,
            message_required: self.message_required,
            secret_ref: self.secret_ref,
            rotates: self.rotates,
        };
        entry.validate().with_context(|| format!("entry {id}"))?;
        let mut seen = std::collections::HashSet::new();
        for set in &entry.permission_sets {
            anyhow::ensure!(
                seen.insert(&set.id),
                "entry {id}: permission set {} twice",
                set.id
            );
        }
        if entry
            .permission_set(&PermissionSetId::view_password_execute())
            .is_some()
        {
            anyhow::ensure!(
                entry.kind != EntryKind::Credential || entry.secret_ref.is_some(),
                "entry {id}: a credential entry offering view-password needs a secret_ref"
            );
        }
        anyhow::ensure!(
            !entry.rotates || entry.secret_ref.is_some(),
            "entry {id}: only an entry with a secret_ref can rotate it"
        );
        Ok(entry)
    }
}

/// Reads and checks the whole file.
pub fn read(path: &Path) -> anyhow::Result<(Vec<User>, Vec<Entry>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: ImportFile =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let entries = file
        .entries
        .into_iter()
        .map(EntrySpec::into_entry)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((file.users, entries))
}

/// Checks the file, then writes it.
pub async fn run(file: PathBuf, backend: Backend, data: PathBuf) -> anyhow::Result<()> {
    let (users, entries) = read(&file)?;
    let opened = backend::open(backend, &data, Arc::new(SystemClock), false).await?;
    let store = opened.ports.store;
    for user in &users {
        store.put_user(user).await?;
    }
    for entry in &entries {
        store.put_entry(entry).await?;
        println!("entry {} ({}) imported", entry.id, entry.name);
    }
    println!(
        "{} entries and {} users imported",
        entries.len(),
        users.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_imports() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/entries.example.json");
        let (users, entries) = read(&path).unwrap();
        assert!(!entries.is_empty());
        assert!(users.iter().any(|u| u.roles.iter().any(|r| r == "admin")));
    }

    #[test]
    fn bad_entries_are_refused_with_their_id() {
        let spec: EntrySpec = serde_json::from_str(
            r#"{"id":"db","name":"DB","kind":"credential","approvers":[],"max_duration_seconds":3600}"#,
        )
        .unwrap();
        let err = spec.into_entry().unwrap_err();
        assert!(format!("{err:#}").contains("entry db"), "{err:#}");
        let spec: EntrySpec = serde_json::from_str(
            r#"{"id":"db","name":"DB","kind":"credential","approvers":["a@b.co"],"max_duration_seconds":30}"#,
        )
        .unwrap();
        assert!(spec.into_entry().is_err());
        let no_secret: EntrySpec = serde_json::from_str(
            r#"{"id":"db","name":"DB","kind":"credential","approvers":["a@b.co"],"max_duration_seconds":3600}"#,
        )
        .unwrap();
        assert!(format!("{:#}", no_secret.into_entry().unwrap_err()).contains("secret_ref"));
    }
}
