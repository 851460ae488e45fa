//! Demo users, entries and credentials, written on first start so a newcomer can walk
//! the whole flow at once.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use async_trait::async_trait;
use tempaccess_core::entry::{Entry, EntryKind, PermissionSet, Right, User, default_presets};
use tempaccess_core::ids::{Email, EntryId, PermissionSetId};
use tempaccess_core::ports::{BoxError, Credential, Secrets, Store};
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
                 secret: bool| Entry {
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

/// Credentials kept in a JSON file in the data directory (`secrets.json`), keyed by
/// the entries' `secret_ref`. The demo's are generated on first start.
pub struct FileSecrets {
    secrets: HashMap<String, Credential>,
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
            std::fs::write(path, serde_json::to_vec_pretty(&demo)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(Self {
            secrets: serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?,
        })
    }
}

#[async_trait]
impl Secrets for FileSecrets {
    async fn credential(&self, secret_ref: &str) -> Result<Credential, BoxError> {
        self.secrets
            .get(secret_ref)
            .cloned()
            .ok_or_else(|| format!("no credential under {secret_ref}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
