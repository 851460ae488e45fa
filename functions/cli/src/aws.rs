//! `tempaccess aws bootstrap [--demo]`: creates the table, the schedule group and the
//! mail identity exactly as the template defines them, and with `--demo` the demo
//! users, entries and their secrets — against AWS or an emulator.

use tempaccess_aws::config::{AwsSettings, Clients};
use tempaccess_aws::{dynamodb, scheduler, secrets, ses};
use tempaccess_core::ports::{Credential, Store};

use crate::backend::aws_clients;
use crate::demo;

/// Creates what the AWS backend needs, from the environment; idempotent.
pub async fn bootstrap(with_demo: bool) -> anyhow::Result<()> {
    let (settings, clients) = aws_clients().await?;
    bootstrap_with(&settings, &clients, with_demo).await
}

/// Creates what the AWS backend described by `settings` needs; idempotent.
pub async fn bootstrap_with(
    settings: &AwsSettings,
    clients: &Clients,
    with_demo: bool,
) -> anyhow::Result<()> {
    dynamodb::table::create_table(&clients.dynamodb, &settings.table_name).await?;
    println!("table {} ready", settings.table_name);
    scheduler::ensure_group(&clients.scheduler, &settings.schedule_group).await?;
    println!("schedule group {} ready", settings.schedule_group);
    ses::ensure_identity(&clients.ses, &settings.mail_from).await?;
    println!("mail identity {} ready", settings.mail_from);
    if !with_demo {
        return Ok(());
    }
    let store = dynamodb::DynamoStore::new(clients.dynamodb.clone(), settings.table_name.clone());
    for user in demo::users() {
        store.put_user(&user).await?;
    }
    for mut entry in demo::entries() {
        if entry.secret_ref.is_some() {
            let credential = Credential {
                username: format!("{}_admin", entry.id.as_str().replace('-', "_")),
                password: demo::random_password(),
            };
            // Named for this table: deployments (and tests) sharing an account or an
            // emulator never share a demo credential, nor rotate each other's.
            let arn = secrets::put_credential(
                &clients.secrets,
                &format!("tempaccess/{}/{}", settings.table_name, entry.id),
                &credential,
                &[("tempaccess:entry", entry.id.as_str())],
            )
            .await?;
            entry.secret_ref = Some(arn);
        }
        store.put_entry(&entry).await?;
        println!("entry {} ready", entry.id);
    }
    println!("demo users: alice (requester), bob and dave (approvers), carol (admin)");
    Ok(())
}
