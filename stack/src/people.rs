//! The demo people in the user pool, as `docs/deploy.md` tells an admin to create
//! people: `AdminCreateUser` with a verified email and a name, a permanent password
//! (here a fixed one per person that meets the pool's password policy), and the
//! admins in the `admins` group. Their entries and display names in the table come
//! from `tempaccess aws bootstrap --demo`.

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::emulator::Emulator;

/// The group whose members are admins (the code's `ADMINS_GROUP`).
pub const ADMINS_GROUP: &str = "admins";

/// A person who can sign in.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    /// Their sign-in name (the pool signs in by email).
    pub email: String,
    /// Their display name.
    pub name: String,
    /// What they do in the demo.
    pub role: String,
    /// Their password.
    pub password: String,
    /// Their groups.
    pub groups: Vec<String>,
}

/// The demo people of `tempaccess aws bootstrap --demo`.
pub fn demo() -> Vec<Person> {
    let person = |first: &str, name: &str, role: &str, groups: &[&str]| Person {
        email: format!("{}@example.com", first.to_ascii_lowercase()),
        name: name.to_owned(),
        role: role.to_owned(),
        password: format!("{first}.Stack-2026"),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    };
    vec![
        person("Alice", "Alice Requester", "requester", &[]),
        person("Bob", "Bob Approver", "approver", &[]),
        person("Dave", "Dave Approver", "approver", &[]),
        person("Carol", "Carol Admin", "admin", &[ADMINS_GROUP]),
    ]
}

/// Whether `password` meets a Cognito password policy (as the template gives it).
pub fn meets_policy(password: &str, policy: &Value) -> bool {
    let min = policy["MinimumLength"].as_u64().unwrap_or(8) as usize;
    let need = |k: &str| policy[k].as_bool().unwrap_or(false);
    password.chars().count() >= min
        && (!need("RequireLowercase") || password.chars().any(|c| c.is_ascii_lowercase()))
        && (!need("RequireUppercase") || password.chars().any(|c| c.is_ascii_uppercase()))
        && (!need("RequireNumbers") || password.chars().any(|c| c.is_ascii_digit()))
        && (!need("RequireSymbols")
            || password
                .chars()
                .any(|c| "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-".contains(c)))
}

/// Creates `people` in the pool.
pub async fn create(
    emulator: &Emulator,
    pool_id: &str,
    groups: &[String],
    policy: &Value,
    people: &[Person],
) -> Result<()> {
    for p in people {
        if !meets_policy(&p.password, policy) {
            bail!(
                "the demo password of {} does not meet the pool's password policy {policy}",
                p.email
            );
        }
        for g in &p.groups {
            if !groups.contains(g) {
                bail!("the template creates no group {g} (it has {groups:?})");
            }
        }
        emulator
            .json(
                "cognito-idp",
                "AdminCreateUser",
                &json!({
                    "UserPoolId": pool_id,
                    "Username": p.email,
                    "MessageAction": "SUPPRESS",
                    "UserAttributes": [
                        {"Name": "email", "Value": p.email},
                        {"Name": "email_verified", "Value": "true"},
                        {"Name": "name", "Value": p.name},
                    ],
                }),
            )
            .await
            .with_context(|| format!("creating {}", p.email))?;
        emulator
            .json(
                "cognito-idp",
                "AdminSetUserPassword",
                &json!({"UserPoolId": pool_id, "Username": p.email, "Password": p.password, "Permanent": true}),
            )
            .await?;
        for g in &p.groups {
            emulator
                .json(
                    "cognito-idp",
                    "AdminAddUserToGroup",
                    &json!({"UserPoolId": pool_id, "Username": p.email, "GroupName": g}),
                )
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_passwords_meet_the_templates_policy() {
        let policy = json!({"MinimumLength": 12, "RequireLowercase": true, "RequireUppercase": true,
                            "RequireNumbers": true, "RequireSymbols": true});
        for p in demo() {
            assert!(meets_policy(&p.password, &policy), "{}", p.password);
        }
        assert!(!meets_policy("short", &policy));
    }
}
