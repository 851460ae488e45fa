//! The use cases, one file each, as `impl Service` blocks over one [`Service`]. Each
//! takes the caller (or a decision token, or nothing for the timer), checks policy,
//! makes one conditional write, then runs side effects (mail, scheduler) whose
//! failures are recorded and retried rather than returned.

mod cancel;
mod decide;
mod lifecycle;
mod outbox;
mod queries;
mod rotation;
mod submit;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::TimeDelta;

use crate::Timestamp;
use crate::audit::{Actor, AuditEvent, EventKind};
use crate::entry::Entry;
use crate::error::Error;
use crate::ids::{self, Email, EntryId, RequestId};
use crate::mail;
use crate::ports::{
    Change, Clock, MailPurpose, Mailer, PendingRotation, Random, Rotator, Scheduler, Secrets,
    Store, StoreError,
};
use crate::request::{AccessRequest, DEFAULT_PENDING_EXPIRY};

pub use decide::{Decision, DecisionView};
pub use lifecycle::{EndOutcome, SWEEP_BUDGET, SweepReport};
pub use outbox::MAX_MAIL_ATTEMPTS;
pub use queries::{ReportPage, ReportParams, ReportScope};

/// The adapters a [`Service`] runs on.
#[derive(Clone)]
pub struct Ports {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// Sends mail.
    pub mailer: Arc<dyn Mailer>,
    /// Ends grants on time.
    pub scheduler: Arc<dyn Scheduler>,
    /// Reads credentials.
    pub secrets: Arc<dyn Secrets>,
    /// Rotates credentials at a grant's end.
    pub rotator: Arc<dyn Rotator>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness for ids and tokens.
    pub random: Arc<dyn Random>,
}

/// Deployment settings the use cases need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The site's base URL, for decision links.
    pub site_url: String,
    /// How long a request may stay pending.
    pub pending_expiry: TimeDelta,
    /// Whether a decision link decides with nobody signed in, for approvers without
    /// an account on the site. Off unless a deployment turns it on: then whoever holds
    /// the mail (a forward, a shared mailbox) can decide, and the timeline can say
    /// only whose link it was.
    pub link_decisions: bool,
}

impl Settings {
    /// Settings for a site at `site_url` with the default pending expiry.
    pub fn new(site_url: impl Into<String>) -> Self {
        Self {
            site_url: site_url.into(),
            pending_expiry: DEFAULT_PENDING_EXPIRY,
            link_decisions: false,
        }
    }
}

/// The temporary-access use cases over a set of [`Ports`].
#[derive(Clone)]
pub struct Service {
    ports: Ports,
    settings: Settings,
    /// Display names read lately, each with when it was read: a mail and the answer
    /// of the same call name the same people, and a warm function serves many calls.
    names: std::sync::Arc<std::sync::Mutex<HashMap<Email, (String, Timestamp)>>>,
}

/// How long a display name read from the store is used before it is read again.
pub const NAME_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// A store call's failure as the use case's, saying what was being done.
pub(super) trait StoreResult<T> {
    fn context(self, doing: &'static str) -> Result<T, Error>;
}

impl<T> StoreResult<T> for Result<T, StoreError> {
    fn context(self, doing: &'static str) -> Result<T, Error> {
        self.map_err(|e| Error::unavailable(doing, e))
    }
}

impl Service {
    /// A service over `ports`.
    pub fn new(ports: Ports, settings: Settings) -> Self {
        Self {
            ports,
            settings,
            names: std::sync::Arc::default(),
        }
    }

    /// The time now, from the clock port.
    pub fn now(&self) -> Timestamp {
        self.ports.clock.now()
    }

    /// The store (for admin commands and tests that read it directly).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.ports.store
    }

    pub(super) fn random_u128(&self) -> u128 {
        let mut b = [0u8; 16];
        self.ports.random.fill(&mut b);
        u128::from_le_bytes(b)
    }

    pub(super) fn event(
        &self,
        request_id: RequestId,
        actor: Actor,
        kind: EventKind,
        detail: String,
    ) -> AuditEvent {
        let at = self.now();
        AuditEvent {
            request_id,
            id: ids::ulid(at, self.random_u128()),
            at,
            actor,
            kind,
            detail,
        }
    }

    /// Appends an event the use case does not depend on (viewed, notified, a failed
    /// mail or schedule): a failure to record it is logged, not returned.
    pub(super) async fn record(
        &self,
        request_id: RequestId,
        actor: Actor,
        kind: EventKind,
        detail: String,
    ) -> bool {
        let event = self.event(request_id, actor, kind, detail);
        match self.ports.store.append_event(&event).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(%request_id, event = kind.as_str(), error = %e, "could not record an event");
                false
            }
        }
    }

    /// The display names of the people `r` names, for its mails. A failure to read
    /// them is logged and the mail names people by their email: it still goes.
    pub(super) async fn mail_names(&self, r: &AccessRequest) -> HashMap<Email, String> {
        match self.names(&crate::wire::RequestView::people(r)).await {
            Ok(names) => names,
            Err(e) => {
                tracing::warn!(request_id = %r.id, error = %e, "could not read display names for a mail");
                HashMap::new()
            }
        }
    }

    /// What mails about a request say besides it: names and the site's address.
    pub(super) fn mail_context<'a>(
        &'a self,
        names: &'a HashMap<Email, String>,
    ) -> mail::Context<'a> {
        mail::Context {
            names,
            site_url: &self.settings.site_url,
        }
    }

    pub(super) async fn entry(&self, id: &EntryId) -> Result<Option<Entry>, Error> {
        self.ports
            .store
            .entry(id)
            .await
            .context("reading the entry")
    }

    pub(super) async fn entry_or_rejected(&self, id: &EntryId) -> Result<Entry, Error> {
        self.entry(id)
            .await?
            .ok_or_else(|| Error::rejected("entry_id", format!("there is no entry {id}")))
    }

    pub(super) async fn request_or_404(&self, id: &RequestId) -> Result<AccessRequest, Error> {
        self.ports
            .store
            .request(id)
            .await
            .context("reading the request")?
            .ok_or(Error::NotFound {
                what: "request",
                field: None,
            })
    }

    /// Writes a transition with its mails (and, when it ends a grant, the rotation
    /// its end calls for), then delivers them. A lost race becomes a 409 naming the
    /// state the winner left.
    pub(super) async fn commit(
        &self,
        before: &AccessRequest,
        t: crate::request::Transition,
        mails: Vec<(MailPurpose, crate::ports::Mail)>,
    ) -> Result<AccessRequest, Error> {
        let outbox: Vec<_> = mails
            .into_iter()
            .map(|(purpose, m)| self.outgoing(before.id, purpose, m))
            .collect();
        let rotations: Vec<PendingRotation> =
            self.rotation_at_end(before, &t).into_iter().collect();
        let change = Change {
            event: self.event(before.id, t.actor, t.kind, t.detail),
            expected_version: before.version,
            outbox: outbox.clone(),
            rotations: rotations.clone(),
            request: t.next.clone(),
        };
        match self.ports.store.apply(change).await {
            Ok(()) => {}
            Err(StoreError::Conflict { current }) => {
                // Read the clock again: the winner may have written after `now`.
                return Err(current.refusal(t.op, self.now()).into());
            }
            Err(e) => return Err(Error::unavailable("writing the change", e)),
        }
        tracing::info!(request_id = %before.id, event = t.kind.as_str(), "request changed");
        self.deliver(outbox).await;
        self.rotate(rotations).await;
        Ok(t.next)
    }
}
