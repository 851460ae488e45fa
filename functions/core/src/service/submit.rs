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
use crate::token::{DecisionToken, TokenRecord};

use super::Service;

impl Service {
    /// Sends a request: checks it against the entry's policy, writes it with its
    /// event, decision token and the approver's mail, then delivers the mail.
    /// A repeat with the same idempotency key within its window returns the first
    /// request.
    pub async fn submit(
        &self,
        caller: &Caller,
        cmd: SubmitCommand,
        idempotency_key: Option<String>,
    ) -> Result<AccessRequest, Error> {
        let now = self.now();
        let entry = self.entry_or_rejected(&cmd.entry_id).await?;
        policy::check_submit(&(&entry).into(), &caller.email, &cmd, now)?;

        let mut expires_at = now + self.settings.pending_expiry;
        if let Requested::Window(w) = cmd.requested {
            expires_at = expires_at.min(w.end());
        }
        let request = AccessRequest::pending(
            RequestId::new(now, self.random_u128()),
            caller.email.clone(),
            cmd,
            entry.name.clone(),
            now,
            expires_at,
        );
        let mut secret = [0u8; 32];
        self.ports.random.fill(&mut secret);
        let token = DecisionToken::from_bytes(secret);
        let names = self.mail_names(&request).await;
        let notice = mail::decision_requested(
            &self.mail_context(&names),
            &request,
            &entry.set_name(&request.permission_set),
            token.link(&self.settings.site_url),
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
            request: request.clone(),
        };
        match self.ports.store.create_request(new).await {
            Ok(()) => {}
            Err(StoreError::Duplicate { existing }) => return self.request_or_404(&existing).await,
            Err(e) => return Err(Error::unavailable("writing the request", e)),
        }
        tracing::info!(request_id = %request.id, entry_id = %request.entry_id, "request sent");
        self.deliver(outbox).await;
        Ok(request)
    }
}
