//! The embedded default's mail: kept in memory and shown at `GET /v1/dev/mail` (and on
//! the site's Mailbox page) instead of being sent.
//!
//! In memory, never in the database: a decision mail holds a live link, and nothing
//! stored may rebuild one. A restart empties the mailbox, as a new inbox would be.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use tempaccess_core::Timestamp;
use tempaccess_core::ports::{Clock, Mail, MailError, Mailer};

/// A mailer that delivers into the local mailbox. Clones share one mailbox.
#[derive(Clone)]
pub struct Mailbox {
    mails: Arc<Mutex<Vec<(Mail, Timestamp)>>>,
    clock: Arc<dyn Clock>,
}

impl Mailbox {
    /// An empty mailbox whose mail is stamped by `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            mails: Arc::default(),
            clock,
        }
    }

    /// Every mail delivered since the server started, oldest first.
    pub fn mails(&self) -> Vec<(Mail, Timestamp)> {
        let mut mails = self
            .mails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        // Stable: mails sent at the same instant stay in the order they were sent.
        mails.sort_by_key(|(_, at)| *at);
        mails
    }
}

#[async_trait]
impl Mailer for Mailbox {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        tracing::info!(to = %mail.to, subject = %mail.subject, "mail delivered to the local mailbox");
        self.mails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((mail.clone(), self.clock.now()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempaccess_core::testing::{ManualClock, email, t0};

    fn mail(subject: &str) -> Mail {
        Mail {
            to: email("alice@example.com"),
            subject: subject.to_owned(),
            text: "text".to_owned(),
            html: "<p>html</p>".to_owned(),
        }
    }

    #[tokio::test]
    async fn the_mailbox_lists_oldest_first() {
        let clock = ManualClock::new(t0());
        let mailbox = Mailbox::new(clock.clone());
        assert!(mailbox.mails().is_empty());
        clock.advance(chrono::TimeDelta::seconds(10));
        mailbox.send(&mail("late")).await.unwrap();
        mailbox.send(&mail("same time, sent after")).await.unwrap();
        let subjects: Vec<_> = mailbox
            .clone()
            .mails()
            .into_iter()
            .map(|(m, _)| m.subject)
            .collect();
        assert_eq!(subjects, ["late", "same time, sent after"]);
    }
}
