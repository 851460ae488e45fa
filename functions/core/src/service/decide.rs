//! Deciding a request: by its approver signed in, from the Approvals page or from the
//! page a mailed link opens; by the link alone only where the deployment allows it.
//!
//! A link's token says which request and which approver the mail was for; it does not
//! say who is clicking. So the decision binds to the person: the signed-in approver,
//! never the requester, never anyone else; and the timeline records who acted and who
//! looked.

use crate::audit::{Actor, EventKind};
use crate::entry::{Caller, Entry};
use crate::error::Error;
use crate::ids::RequestId;
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
    /// The request. Once it cannot be decided any more, only what says so remains
    /// (its status, who decided and when): an old link reads no message or comment.
    pub request: AccessRequest,
    /// The entry, if it still exists (for the sets the approver may narrow to).
    pub entry: Option<Entry>,
    /// Whether the request can still be decided.
    pub decidable: bool,
    /// Whether deciding needs the approver signed in (the deployment does not take
    /// decisions by link alone).
    pub sign_in_required: bool,
}

impl Service {
    /// What a decision link shows to `visitor` (the signed-in person, or `None` for
    /// someone signed out). Changes no state. Records that someone looked, once per
    /// person (the link's holder, signed out, counts as one).
    ///
    /// A signed-in person other than the link's approver is refused, and so is the
    /// requester: the page is the approver's.
    pub async fn lookup_decision(
        &self,
        token: &DecisionToken,
        visitor: Option<&Caller>,
    ) -> Result<DecisionView, Error> {
        let (record, request) = self.resolve_token(token).await?;
        let viewer = match visitor {
            Some(_) => policy::link_decider(visitor, &record.approver, &request, false)?,
            None => Actor::LinkHolder(record.approver.clone()),
        };
        let now = self.now();
        let decidable = request.allows(OpKind::Approve, now).is_ok();
        if decidable {
            self.record_view(&request, viewer).await?;
        }
        let entry = self.entry(&request.entry_id).await?;
        Ok(DecisionView {
            request: if decidable {
                request
            } else {
                request.decided_only()
            },
            entry,
            decidable,
            sign_in_required: !self.settings.link_decisions,
        })
    }

    /// Records a `viewed` event unless this viewer's look is already on the timeline:
    /// mail scanners and reloads open links again and again.
    async fn record_view(&self, request: &AccessRequest, viewer: Actor) -> Result<(), Error> {
        let events = self
            .ports
            .store
            .events(&request.id)
            .await
            .context("reading the timeline")?;
        let seen = events
            .iter()
            .any(|e| e.kind == EventKind::Viewed && e.actor == viewer);
        if !seen {
            self.record(request.id, viewer, EventKind::Viewed, String::new())
                .await;
        }
        Ok(())
    }

    /// The token's record and request, while the link is alive (until the pending
    /// expiry; a decided request's link answers only who decided).
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
            .filter(|r| self.now() < r.expires_at)
            .ok_or_else(unknown)?;
        let request = self
            .request_or_404(&record.request_id)
            .await
            .map_err(|_| unknown())?;
        Ok((record, request))
    }

    /// Decides with a decision link, as `visitor` (signed in) or, with nobody signed
    /// in, as the link's holder where the deployment allows decisions by link alone.
    pub async fn decide_by_token(
        &self,
        token: &DecisionToken,
        visitor: Option<&Caller>,
        decision: Decision,
        comment: Message,
    ) -> Result<AccessRequest, Error> {
        let (record, request) = self.resolve_token(token).await?;
        let actor = policy::link_decider(
            visitor,
            &record.approver,
            &request,
            self.settings.link_decisions,
        )?;
        self.decide_as(actor, request, decision, comment).await
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
        self.decide_as(
            Actor::User(caller.email.clone()),
            request,
            decision,
            comment,
        )
        .await
    }

    /// Decides for the request's approver; `actor` is who the timeline says acted (the
    /// approver signed in, or their link's holder).
    async fn decide_as(
        &self,
        actor: Actor,
        request: AccessRequest,
        decision: Decision,
        comment: Message,
    ) -> Result<AccessRequest, Error> {
        let now = self.now();
        let approver = request.approver.clone();
        // Say "already decided" before anything else.
        request.allows(OpKind::Approve, now)?;
        let entry = self.entry(&request.entry_id).await?;
        policy::still_approves(entry.as_ref(), &approver)?;
        let (op, outcome_mail) = match decision {
            Decision::Deny => (
                Op::Deny {
                    by: approver,
                    comment,
                },
                None,
            ),
            Decision::Approve(narrowing) => {
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
                        by: approver,
                        grant,
                        comment,
                    },
                    Some(rights),
                )
            }
        };
        let mut t = request.apply(op, now)?;
        t.actor = actor;
        // What the grant's end must do: rotate the credential it could reveal.
        if let (Some(entry), Some(grant)) = (&entry, &t.next.grant) {
            t.next.rotate_on_end = entry.rotation_for(&grant.permission_set);
        }
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
            // The detail is for people; the cause (which may name internals) is logged.
            tracing::warn!(request_id = %next.id, error = %crate::error::Chain(&*e), "could not schedule the end; the sweep will end it");
            self.record(
                next.id,
                Actor::SYSTEM,
                EventKind::ScheduleFailed,
                "the end could not be scheduled; the sweep ends the grant on time".to_owned(),
            )
            .await;
        }
        Ok(next)
    }
}
