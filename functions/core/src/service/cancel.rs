//! Cancelling a pending request, ending one's own access, or revoking a grant.

use crate::audit::EventKind;
use crate::entry::Caller;
use crate::error::Error;
use crate::ids::RequestId;
use crate::mail;
use crate::policy;
use crate::ports::MailPurpose;
use crate::request::{AccessRequest, State};
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
        let (op, notify) = policy::cancel_op(caller, &request, now, reason)?;
        let t = request.apply(op, now)?;
        let names = self.mail_names(&t.next).await;
        let cx = self.mail_context(&names);
        let mails = notify
            .iter()
            .map(|to| {
                let m = if t.kind == EventKind::Cancelled {
                    mail::cancelled(&cx, &t.next)
                } else {
                    mail::revoked(&cx, &t.next, to)
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
