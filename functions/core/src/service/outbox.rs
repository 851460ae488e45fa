//! The mail outbox: mail is written with the state change that causes it, then
//! delivered; failures are retried with backoff and recorded.
//!
//! A decision mail is kept without its link ([`mail::LINK_MARK`]): nothing stored lets
//! anyone rebuild a live link. The link is made when the mail is sent, from the token
//! minted with the request on the first delivery, and from a new token (stored only
//! as its hash) on each retry.

use chrono::TimeDelta;

use crate::audit::{Actor, EventKind};
use crate::error::{Chain, Error};
use crate::ids::{self, RequestId};
use crate::mail;
use crate::ports::{Mail, MailError, MailPurpose, OutgoingMail};
use crate::request::OpKind;
use crate::token::{DecisionToken, TokenRecord};

use super::{Service, StoreResult};

/// A mail is tried this many times before it is given up (and recorded as failed).
pub const MAX_MAIL_ATTEMPTS: u32 = 6;

/// How long the request path has to deliver a fresh mail before the sweep may retry it,
/// so that the two never send the same mail at once.
const FIRST_DELIVERY_GRACE: TimeDelta = TimeDelta::seconds(60);

/// Why one attempt did not send a mail.
enum Attempt {
    /// The mailer failed (retryable or not).
    Mail(MailError),
    /// The link could not be made (the store failed): retried like a mail failure.
    Link(Error),
}

impl Service {
    pub(super) fn outgoing(
        &self,
        request_id: RequestId,
        purpose: MailPurpose,
        m: Mail,
    ) -> OutgoingMail {
        let now = self.now();
        OutgoingMail {
            id: ids::ulid(now, self.random_u128()),
            request_id,
            purpose,
            mail: m,
            attempts: 0,
            next_attempt_at: now + FIRST_DELIVERY_GRACE,
        }
    }

    /// A fresh decision token from the random source.
    pub(super) fn mint_token(&self) -> DecisionToken {
        let mut secret = [0u8; 32];
        self.ports.random.fill(&mut secret);
        DecisionToken::from_bytes(secret)
    }

    /// Delivers the mails a request was just written with; its decision mail takes the
    /// token minted with it. Returns (sent, failed).
    pub(super) async fn deliver_first(
        &self,
        outbox: Vec<OutgoingMail>,
        token: DecisionToken,
    ) -> (usize, usize) {
        self.deliver_with(outbox, Some(token)).await
    }

    /// Delivers outbox mail; records each outcome. Returns (sent, failed).
    pub(super) async fn deliver(&self, outbox: Vec<OutgoingMail>) -> (usize, usize) {
        self.deliver_with(outbox, None).await
    }

    async fn deliver_with(
        &self,
        outbox: Vec<OutgoingMail>,
        mut token: Option<DecisionToken>,
    ) -> (usize, usize) {
        let (mut sent, mut failed) = (0, 0);
        for item in outbox {
            let outcome = match item.purpose {
                MailPurpose::DecisionRequested => {
                    match self.decision_link(item.request_id, token.take()).await {
                        Ok(Some(link)) => {
                            self.send(mail::with_link(item.mail.clone(), &link)).await
                        }
                        // Decided, cancelled or expired meanwhile: nothing to ask.
                        Ok(None) => {
                            self.drop_mail(&item).await;
                            continue;
                        }
                        Err(e) => Err(Attempt::Link(e)),
                    }
                }
                MailPurpose::Notice => self.send(item.mail.clone()).await,
            };
            match outcome {
                Ok(()) => {
                    sent += 1;
                    self.delivered(&item).await;
                }
                Err(attempt) => {
                    failed += 1;
                    self.failed(&item, attempt).await;
                }
            }
        }
        (sent, failed)
    }

    async fn send(&self, m: Mail) -> Result<(), Attempt> {
        self.ports.mailer.send(&m).await.map_err(Attempt::Mail)
    }

    /// The link of a decision mail: from `token` on the first delivery; on a retry
    /// from a new token, stored before the mail goes, while the request can still be
    /// decided (`None` once it cannot).
    async fn decision_link(
        &self,
        request_id: RequestId,
        token: Option<DecisionToken>,
    ) -> Result<Option<String>, Error> {
        let token = match token {
            Some(token) => token,
            None => {
                let Some(request) = self
                    .ports
                    .store
                    .request(&request_id)
                    .await
                    .context("reading the request")?
                else {
                    return Ok(None);
                };
                if request.allows(OpKind::Approve, self.now()).is_err() {
                    return Ok(None);
                }
                let token = self.mint_token();
                self.ports
                    .store
                    .put_token(&TokenRecord {
                        hash: token.hash(),
                        request_id,
                        approver: request.approver.clone(),
                        expires_at: request.expires_at,
                    })
                    .await
                    .context("keeping the decision token")?;
                token
            }
        };
        Ok(Some(token.link(&self.settings.site_url)))
    }

    async fn delivered(&self, item: &OutgoingMail) {
        let kind = match (item.purpose, item.attempts) {
            (MailPurpose::DecisionRequested, 0) => Some(EventKind::Notified),
            (_, 0) => None,
            _ => Some(EventKind::EmailRetried),
        };
        let event = kind.map(|kind| {
            self.event(
                item.request_id,
                Actor::SYSTEM,
                kind,
                item.mail.to.to_string(),
            )
        });
        if let Err(e) = self.ports.store.mail_sent(&item.id, event.as_ref()).await {
            tracing::warn!(mail_id = %item.id, error = %e, "a delivered mail stays in the outbox or its event is not recorded");
        }
    }

    /// A decision mail whose request can no longer be decided leaves the outbox unsent.
    async fn drop_mail(&self, item: &OutgoingMail) {
        tracing::info!(mail_id = %item.id, request_id = %item.request_id, "decision mail no longer needed");
        if let Err(e) = self.ports.store.mail_delivered(&item.id).await {
            tracing::warn!(mail_id = %item.id, error = %e, "an unneeded mail stays in the outbox");
        }
    }

    async fn failed(&self, item: &OutgoingMail, attempt: Attempt) {
        let store = &self.ports.store;
        let attempts = item.attempts + 1;
        let retryable = !matches!(attempt, Attempt::Mail(MailError::Permanent(_)));
        let mut retry =
            (retryable && attempts < MAX_MAIL_ATTEMPTS).then(|| self.now() + backoff(attempts));
        match &attempt {
            Attempt::Mail(e) => {
                tracing::warn!(mail_id = %item.id, request_id = %item.request_id, error = %Chain(e), attempts, "mail not delivered");
            }
            Attempt::Link(e) => {
                tracing::warn!(mail_id = %item.id, request_id = %item.request_id, error = %Chain(e), attempts, "decision link not made");
            }
        }
        // The timeline says what happened in words for people; the cause (which may
        // name internals) is in the log above.
        let what = if retryable {
            "could not be delivered"
        } else {
            "was refused by the mail service"
        };
        // Given up only once the timeline says so: a mail given up in silence would
        // leave someone waiting for it with nobody told.
        if retry.is_none() {
            let said = self
                .record(
                    item.request_id,
                    Actor::SYSTEM,
                    EventKind::EmailFailed,
                    format!("mail to {} {what}; given up", item.mail.to),
                )
                .await;
            if !said {
                retry = Some(self.now() + backoff(attempts));
            }
        }
        if let Err(e) = store.mail_failed(&item.id, attempts, retry).await {
            tracing::warn!(mail_id = %item.id, error = %e, "could not record the failed attempt");
        }
        if let Some(at) = retry {
            self.record(
                item.request_id,
                Actor::SYSTEM,
                EventKind::EmailFailed,
                format!(
                    "mail to {} {what}; retrying at {}",
                    item.mail.to,
                    at.format("%Y-%m-%d %H:%M UTC")
                ),
            )
            .await;
        }
    }
}

/// Waits between mail attempts: 1, 2, 4, 8, 16 minutes.
fn backoff(attempts: u32) -> TimeDelta {
    TimeDelta::minutes(1 << attempts.saturating_sub(1).min(4))
}
