//! Deciding a request: by the signed-in approver, or with a mailed link.

use crate::audit::{Actor, EventKind};
use crate::entry::{Caller, Entry};
use crate::error::Error;
use crate::ids::{Email, RequestId};
use crate::mail;
use crate::policy::{self, Narrowing};
use crate::ports::MailPurpose;
use crate::request::{AccessRequest, Op, OpKind};
use crate::text::Message;
use crate::token::{DecisionToken, TokenRecord};

use super::{Service, StoreResult};

/// An approver's decision, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approve, as asked or narrower.
    Approve(Narrowing),
    /// Deny.
    Deny,
}

/// What the decision page shows.
#[derive(Debug, Clone)]
pub struct DecisionView {
    /// The request.
    pub request: AccessRequest,
    /// The entry, if it still exists (for the sets the approver may narrow to).
    pub entry: Option<Entry>,
    /// Whether a decision can still be made with this link.
    pub decidable: bool,
}

impl Service {
    /// What a decision link shows. Changes no state; records that the approver looked.
    pub async fn lookup_decision(&self, token: &DecisionToken) -> Result<DecisionView, Error> {
        let (record, request) = self.resolve_token(token).await?;
        let now = self.now();
        // Decidable while the state machine allows a decision.
        let decidable = request.allows(OpKind::Approve, now).is_ok();
        if decidable {
            self.record(
                request.id,
                Actor::User(record.approver),
                EventKind::Viewed,
                String::new(),
            )
            .await;
        }
        let entry = self.entry(&request.entry_id).await?;
        Ok(DecisionView {
            request,
            entry,
            decidable,
        })
    }

    async fn resolve_token(
        &self,
        token: &DecisionToken,
    ) -> Result<(TokenRecord, AccessRequest), Error> {
        let unknown = || Error::NotFound {
            what: "decision link",
            field: Some("token".to_owned()),
        };
        let record = self
            .ports
            .store
            .token(&token.hash())
            .await
            .context("reading the decision token")?
            .ok_or_else(unknown)?;
        let request = self
            .request_or_404(&record.request_id)
            .await
            .map_err(|_| unknown())?;
        Ok((record, request))
    }

    /// Decides with a decision link: the token is the approver's authority.
    pub async fn decide_by_token(
        &self,
        token: &DecisionToken,
        decision: Decision,
        comment: Message,
    ) -> Result<AccessRequest, Error> {
        let (record, request) = self.resolve_token(token).await?;
        self.decide_as(&record.approver, request, decision, comment)
            .await
    }

    /// Decides as the signed-in approver of the request.
    pub async fn decide(
        &self,
        caller: &Caller,
        id: &RequestId,
        decision: Decision,
        comment: Message,
    ) -> Result<AccessRequest, Error> {
        let request = self.request_or_404(id).await?;
        policy::may_decide(caller, &request)?;
        self.decide_as(&caller.email, request, decision, comment)
            .await
    }

    async fn decide_as(
        &self,
        approver: &Email,
        request: AccessRequest,
        decision: Decision,
        comment: Message,
    ) -> Result<AccessRequest, Error> {
        let now = self.now();
        let (op, outcome_mail) = match decision {
            Decision::Deny => (
                Op::Deny {
                    by: approver.clone(),
                    comment,
                },
                None,
            ),
            Decision::Approve(narrowing) => {
                // Say "already decided" before judging the narrowing.
                request.allows(OpKind::Approve, now)?;
                let entry = self.entry(&request.entry_id).await?;
                let grant = policy::grant_for(
                    request.requested,
                    &request.permission_set,
                    entry.as_ref().map(|e| e.permission_sets.as_slice()),
                    &narrowing,
                    now,
                )?;
                let name = |id: &crate::ids::PermissionSetId| {
                    entry
                        .as_ref()
                        .map_or_else(|| id.to_string(), |e| e.set_name(id))
                };
                let rights = (name(&grant.permission_set), name(&request.permission_set));
                (
                    Op::Approve {
                        by: approver.clone(),
                        grant,
                        comment,
                    },
                    Some(rights),
                )
            }
        };
        let t = request.apply(op, now)?;
        let names = self.mail_names(&t.next).await;
        let cx = self.mail_context(&names);
        let mail = match &outcome_mail {
            Some((granted, asked)) => mail::approved(&cx, &t.next, granted, asked),
            None => mail::denied(&cx, &t.next),
        };
        let next = self
            .commit(&request, t, vec![(MailPurpose::Notice, mail)])
            .await?;
        if let Some(grant) = &next.grant
            && let Err(e) = self
                .ports
                .scheduler
                .schedule_end(&next.id, grant.ends_at)
                .await
        {
            tracing::warn!(request_id = %next.id, error = %e, "could not schedule the end; the sweep will end it");
            self.record(
                next.id,
                Actor::SYSTEM,
                EventKind::ScheduleFailed,
                e.to_string(),
            )
            .await;
        }
        Ok(next)
    }
}
