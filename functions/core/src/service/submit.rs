//! Sending a request.

use crate::audit::{Actor, EventKind};
use crate::entry::Caller;
use crate::error::Error;
use crate::ids::RequestId;
use crate::mail;
use crate::policy;
use crate::ports::{CreateRequest, IdempotencyKey, MailPurpose, StoreError};
use crate::request::{AccessRequest, SubmitCommand};
use crate::timing::Requested;
use crate::token::TokenRecord;

use super::{Service, StoreResult};

impl Service {
    /// Sends a request: checks it against the entry's policy and the requester's
    /// limits, writes it with its event, the approver's decision token and mail, then
    /// delivers the mail. A repeat with the same idempotency key within its window
    /// returns the first request; the same key with another request is refused.
    pub async fn submit(
        &self,
        caller: &Caller,
        cmd: SubmitCommand,
        idempotency_key: Option<String>,
    ) -> Result<AccessRequest, Error> {
        let now = self.now();
        let entry = self.entry_or_rejected(&cmd.entry_id).await?;
        policy::check_submit(&(&entry).into(), &caller.email, &cmd, now)?;
        let open = self
            .ports
            .store
            .open_requests_of(&caller.email, now)
            .await
            .context("reading the requester's open requests")?;
        policy::check_pending_limits(&open, &entry.id, now)?;

        let mut expires_at = now + self.settings.pending_expiry;
        if let Requested::Window(w) = cmd.requested {
            expires_at = expires_at.min(w.end());
        }
        let request = AccessRequest::pending(
            RequestId::new(now, self.random_u128()),
            caller.email.clone(),
            cmd.clone(),
            entry.name.clone(),
            now,
            expires_at,
        );
        // The mail goes to the outbox without its link; the token that makes the link
        // is kept in memory for this first delivery and stored only as its hash.
        let token = self.mint_token();
        let names = self.mail_names(&request).await;
        let notice = mail::decision_requested(
            &self.mail_context(&names),
            &request,
            &entry.set_name(&request.permission_set),
            entry.reveals_unrotated(&request.permission_set),
        );
        let outbox = vec![self.outgoing(request.id, MailPurpose::DecisionRequested, notice)];
        let new = CreateRequest {
            event: self.event(
                request.id,
                Actor::User(caller.email.clone()),
                EventKind::Requested,
                mail::describe_requested(&request.requested),
            ),
            token: TokenRecord {
                hash: token.hash(),
                request_id: request.id,
                approver: request.approver.clone(),
                expires_at,
            },
            outbox: outbox.clone(),
            idempotency: idempotency_key.map(|key| IdempotencyKey::used_at(key, now)),
            one_pending_per_entry: true,
            request: request.clone(),
        };
        match self.ports.store.create_request(new).await {
            Ok(()) => {}
            Err(StoreError::Duplicate { existing }) => {
                let first = self.request_or_404(&existing).await?;
                if !first.asked_the_same(&caller.email, &cmd) {
                    return Err(Error::rejected(
                        "Idempotency-Key",
                        "this key was already used for a different request: send a new key",
                    ));
                }
                return Ok(first);
            }
            Err(StoreError::OpenRequest { existing }) => {
                return Err(Error::OpenRequest { existing });
            }
            Err(e) => return Err(Error::unavailable("writing the request", e)),
        }
        tracing::info!(request_id = %request.id, entry_id = %request.entry_id, "request sent");
        self.deliver_first(outbox, token).await;
        Ok(request)
    }
}
