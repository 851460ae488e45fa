//! Cancelling a pending request, ending one's own access, or revoking a grant.

use crate::audit::EventKind;
use crate::entry::Caller;
use crate::error::Error;
use crate::ids::RequestId;
use crate::mail;
use crate::ports::MailPurpose;
use crate::request::{AccessRequest, Op, State, Status};
use crate::text::Message;

use super::Service;

impl Service {
    /// Cancels a pending request or ends an approved grant early.
    /// The requester cancels or ends their own; the approver or an admin revokes with a reason.
    pub async fn cancel(
        &self,
        caller: &Caller,
        id: &RequestId,
        reason: Message,
    ) -> Result<AccessRequest, Error> {
        let now = self.now();
        let request = self.request_or_404(id).await?;
        let is_requester = caller.email == request.requester;
        let is_approver = caller.email == request.approver;
        let is_admin = caller.is_admin();
        if !(is_requester || is_approver || is_admin) {
            return Err(Error::forbidden(
                "only the requester, the approver or an admin may do this",
            ));
        }
        let by = caller.email.clone();
        let (op, notify) = match request.status(now) {
            Status::Pending if is_requester || is_admin => {
                (Op::Cancel { by, reason }, vec![request.approver.clone()])
            }
            Status::Pending => {
                return Err(Error::forbidden(
                    "deny the request instead of cancelling it",
                ));
            }
            Status::Scheduled | Status::Active => {
                if !is_requester && reason.is_empty() {
                    return Err(Error::invalid("reason", "say why the access is revoked"));
                }
                let notify = if is_requester {
                    vec![]
                } else {
                    vec![request.requester.clone()]
                };
                (Op::Revoke { by, reason }, notify)
            }
            _ => return Err(request.conflict(now, "cancel")),
        };
        let t = request.apply(op, now)?;
        let mails = notify
            .iter()
            .map(|to| {
                let m = if t.kind == EventKind::Cancelled {
                    mail::cancelled(&t.next)
                } else {
                    mail::revoked(&t.next, to)
                };
                (MailPurpose::Notice, m)
            })
            .collect();
        let next = self.commit(&request, t, mails).await?;
        if next.state == State::Revoked
            && let Err(e) = self.ports.scheduler.cancel_end(&next.id).await
        {
            // Harmless: a late delivery finds the grant already revoked.
            tracing::warn!(request_id = %next.id, error = %e, "could not delete the end schedule");
        }
        Ok(next)
    }
}
