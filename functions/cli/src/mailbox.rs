//! The embedded default's mail: kept in the database and shown at `GET /v1/dev/mail`
//! (and on the site's Mailbox page) instead of being sent.

use std::sync::Arc;

use async_trait::async_trait;
use tempaccess_core::ports::{Clock, Mail, MailError, Mailer};
use tempaccess_sqlite::SqliteStore;

/// A mailer that delivers into the local mailbox.
pub struct Mailbox {
    store: SqliteStore,
    clock: Arc<dyn Clock>,
}

impl Mailbox {
    /// A mailbox in `store`'s database.
    pub fn new(store: SqliteStore, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl Mailer for Mailbox {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        tracing::info!(to = %mail.to, subject = %mail.subject, "mail delivered to the local mailbox");
        self.store
            .mailbox_push(mail, self.clock.now())
            .await
            .map_err(|e| MailError::Retryable(e.into()))
    }
}
