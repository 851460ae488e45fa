//! Demo users, entries and credentials, written on first start so a newcomer can walk
//! the whole flow at once.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use async_trait::async_trait;
use tempaccess_core::entry::{Entry, EntryKind, PermissionSet, Right, User, default_presets};
use tempaccess_core::ids::{Email, EntryId, PermissionSetId};
use tempaccess_core::ports::{BoxError, Credential, RotateError, Rotator, Secrets, Store};
use tempaccess_core::timing::AccessDuration;

fn email(s: &str) -> Email {
    Email::parse(s).expect("demo emails are valid")
}

/// The demo people: a requester, two approvers and an admin.
pub fn users() -> Vec<User> {
    let user = |e: &str, name: &str, roles: &[&str]| User {
        email: email(e),
        name: name.to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    vec![
        user("alice@example.com", "Alice Requester", &[]),
        user("bob@example.com", "Bob Approver", &[]),
        user("dave@example.com", "Dave Approver", &[]),
        user("carol@example.com", "Carol Admin", &["admin"]),
    ]
}

/// The demo entries.
pub fn entries() -> Vec<Entry> {
    let hours = |h: i64| AccessDuration::from_seconds(h * 3600, "max_duration").expect("valid");
    let entry = |id: &str,
                 name: &str,
                 kind,
                 folder: &str,
                 approvers: &[&str],
                 sets: Vec<PermissionSet>,
                 max,
                 message_required,
                 secret: bool,
                 rotates: bool| Entry {
        id: EntryId::parse(id).expect("valid"),
        name: name.to_owned(),
        kind,
        folder: folder.to_owned(),
        approvers: approvers.iter().map(|a| email(a)).collect(),
        permission_sets: sets,
        duration_presets: default_presets(max),
        max_duration: max,
        message_required,
        secret_ref: secret.then(|| format!("local/{id}")),
        rotates,
    };
    let operator = PermissionSet {
        id: PermissionSetId::parse("operator").expect("valid"),
        name: "Operator (execute only)".to_owned(),
        rights: vec![Right::View, Right::Execute],
    };
    vec![
        entry(
            "prod-db",
            "Production database",
            EntryKind::Credential,
            "Databases/Production",
            &["bob@example.com"],
            vec![PermissionSet::view_password_execute()],
            hours(8),
            false,
            true,
            true,
        ),
        entry(
            "payroll-rdp",
            "Payroll server (RDP)",
            EntryKind::RemoteSession,
            "Servers/Finance",
            &["bob@example.com", "dave@example.com"],
            vec![PermissionSet::view_password_execute(), operator],
            hours(4),
            true,
            true,
            true,
        ),
        entry(
            "billing-api-key",
            "Billing API key",
            EntryKind::Credential,
            "Keys/Billing",
            &["dave@example.com"],
            vec![PermissionSet::view_password_execute()],
            hours(1),
            false,
            true,
            // A key its owner cannot rotate on demand: the site and the approver's
            // mail say a password seen stays valid.
            false,
        ),
    ]
}

/// Writes the demo data unless the store already has entries.
pub async fn seed(store: &dyn Store) -> anyhow::Result<bool> {
    if !store.entries().await?.is_empty() {
        return Ok(false);
    }
    for u in users() {
        store.put_user(&u).await?;
    }
    for e in entries() {
        store.put_entry(&e).await?;
    }
    Ok(true)
}

/// A fresh random demo password (96 bits, hex).
pub fn random_password() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    hex::encode(bytes)
}

/// Credentials kept in a JSON file in the data directory (`secrets.json`, `0600`),
/// keyed by the entries' `secret_ref`. The demo's are generated on first start; a
/// rotation writes a new random password there.
pub struct FileSecrets {
    path: std::path::PathBuf,
    secrets: std::sync::Mutex<HashMap<String, Credential>>,
}

impl FileSecrets {
    /// Reads `path`, writing demo credentials there first when it is missing.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            let demo: HashMap<String, Credential> = entries()
                .into_iter()
                .filter_map(|e| e.secret_ref.map(|r| (r, e.id)))
                .map(|(r, id)| {
                    let username = format!("{}_admin", id.as_str().replace('-', "_"));
                    (
                        r,
                        Credential {
                            username,
                            password: random_password(),
                        },
                    )
                })
                .collect();
            crate::files::write_private(path, &serde_json::to_vec_pretty(&demo)?)?;
        }
        crate::files::restrict(path)?;
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            secrets: std::sync::Mutex::new(
                serde_json::from_str(&text)
                    .with_context(|| format!("parsing {}", path.display()))?,
            ),
        })
    }

    fn secrets(&self) -> std::sync::MutexGuard<'_, HashMap<String, Credential>> {
        self.secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl Secrets for FileSecrets {
    async fn credential(&self, secret_ref: &str) -> Result<Credential, BoxError> {
        self.secrets()
            .get(secret_ref)
            .cloned()
            .ok_or_else(|| format!("no credential under {secret_ref}").into())
    }
}

/// A new random password, written to the file before it counts as rotated.
#[async_trait]
impl Rotator for FileSecrets {
    async fn rotate(&self, secret_ref: &str) -> Result<(), RotateError> {
        let mut secrets = self.secrets();
        let Some(credential) = secrets.get_mut(secret_ref) else {
            return Err(RotateError::Permanent(
                format!("no credential under {secret_ref}").into(),
            ));
        };
        let previous = std::mem::replace(&mut credential.password, random_password());
        let written = serde_json::to_vec_pretty(&*secrets)
            .map_err(anyhow::Error::from)
            .and_then(|json| crate::files::write_private(&self.path, &json));
        if let Err(e) = written {
            // Not rotated after all: keep what the file still says.
            if let Some(credential) = secrets.get_mut(secret_ref) {
                credential.password = previous;
            }
            return Err(RotateError::Retryable(e.into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_rotation_writes_a_new_password_the_next_read_gets() {
        let dir = std::env::temp_dir().join(format!("tempaccess-rotate-{}", std::process::id()));
        crate::files::private_dir(&dir).unwrap();
        let path = dir.join("secrets.json");
        let secrets = FileSecrets::open(&path).unwrap();
        let before = secrets.credential("local/prod-db").await.unwrap();
        secrets.rotate("local/prod-db").await.unwrap();
        let after = secrets.credential("local/prod-db").await.unwrap();
        assert_ne!(after.password, before.password);
        assert_eq!(after.username, before.username);
        let reopened = FileSecrets::open(&path).unwrap();
        assert_eq!(reopened.credential("local/prod-db").await.unwrap(), after);
        assert!(matches!(
            secrets.rotate("local/nothing").await,
            Err(RotateError::Permanent(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn demo_entries_are_valid_and_bob_approves_a_credential() {
        for e in entries() {
            e.validate().unwrap();
        }
        let prod = entries()
            .into_iter()
            .find(|e| e.id.as_str() == "prod-db")
            .unwrap();
        assert!(prod.is_approver(&email("bob@example.com")));
        assert_eq!(prod.kind, EntryKind::Credential);
        assert!(
            prod.permission_set(&PermissionSetId::view_password_execute())
                .is_some()
        );
    }
}
