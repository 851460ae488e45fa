//! Deciding a request: by the signed-in approver, or with a mailed link.

use crate::Timestamp;
use crate::audit::{Actor, EventKind};
use crate::entry::{Caller, Entry};
use crate::error::Error;
use crate::ids::{Email, PermissionSetId, RequestId};
use crate::mail;
use crate::ports::MailPurpose;
use crate::request::{AccessRequest, Grant, Op, Status};
use crate::text::Message;
use crate::timing::{AccessDuration, Requested, TimeFrame};
use crate::token::{DecisionToken, TokenRecord};

use super::queries::set_named;
use super::{Service, store_err};

/// An approver's decision, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approve, as asked or narrower.
    Approve(Narrowing),
    /// Deny.
    Deny,
}

/// How an approval may be narrower than the request. All `None`: as asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// A shorter duration.
    pub duration: Option<AccessDuration>,
    /// A narrower time frame (for time-frame requests).
    pub window: Option<TimeFrame>,
    /// A narrower permission set.
    pub permission_set: Option<PermissionSetId>,
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
        let decidable = request.status(now) == Status::Pending;
        if decidable {
            let viewed = self.event(
                request.id,
                Actor::User(record.approver),
                EventKind::Viewed,
                String::new(),
            );
            if let Err(e) = self.ports.store.append_event(&viewed).await {
                tracing::warn!(request_id = %request.id, error = %e, "could not record the view");
            }
        }
        let entry = self
            .ports
            .store
            .entry(&request.entry_id)
            .await
            .map_err(store_err("reading the entry"))?;
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
            .map_err(store_err("reading the decision token"))?
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
        if caller.email == request.requester {
            return Err(Error::forbidden("you cannot decide your own request"));
        }
        if caller.email != request.approver {
            return Err(Error::forbidden(
                "only the approver named in the request may decide it",
            ));
        }
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
                if request.status(now) != Status::Pending {
                    // Say "already decided" before judging the narrowing.
                    return Err(request.conflict(now, "approve"));
                }
                let entry = self
                    .ports
                    .store
                    .entry(&request.entry_id)
                    .await
                    .map_err(store_err("reading the entry"))?;
                let grant = grant_for(&request, entry.as_ref(), &narrowing, now)?;
                let rights = entry
                    .as_ref()
                    .and_then(|e| e.permission_set(&grant.permission_set))
                    .map_or_else(|| grant.permission_set.to_string(), |s| s.name.clone());
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
        let mail = match &outcome_mail {
            Some(rights) => mail::approved(&t.next, rights),
            None => mail::denied(&t.next),
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
            let ev = self.event(
                next.id,
                Actor::SYSTEM,
                EventKind::ScheduleFailed,
                e.to_string(),
            );
            let _ = self.ports.store.append_event(&ev).await;
        }
        Ok(next)
    }
}

/// The grant an approval makes at `now`: as asked, or narrower, never wider.
pub fn grant_for(
    request: &AccessRequest,
    entry: Option<&Entry>,
    narrowing: &Narrowing,
    now: Timestamp,
) -> Result<Grant, Error> {
    let permission_set = match &narrowing.permission_set {
        None => request.permission_set.clone(),
        Some(id) if id == &request.permission_set => id.clone(),
        Some(id) => {
            let entry = entry.ok_or_else(|| {
                Error::rejected(
                    "permission_set",
                    "the entry no longer exists; approve as asked",
                )
            })?;
            let narrower = entry.permission_set(id).ok_or_else(|| {
                Error::rejected(
                    "permission_set",
                    "this entry does not offer that permission set",
                )
            })?;
            let asked = set_named(entry, &request.permission_set).ok_or_else(|| {
                Error::rejected("permission_set", "the requested set no longer exists")
            })?;
            if !narrower.is_within(&asked) {
                return Err(Error::rejected(
                    "permission_set",
                    "must not give more rights than requested",
                ));
            }
            id.clone()
        }
    };
    let (starts_at, ends_at) = match (request.requested, narrowing.duration, narrowing.window) {
        (_, Some(_), Some(_)) => {
            return Err(Error::invalid(
                "duration_seconds",
                "give a duration or a time frame, not both",
            ));
        }
        (Requested::Duration(asked), shorter, None) => {
            let d = shorter.unwrap_or(asked);
            if d > asked {
                return Err(Error::rejected(
                    "duration_seconds",
                    "must not be longer than requested",
                ));
            }
            (now, now + d.delta())
        }
        (Requested::Duration(_), None, Some(_)) => {
            return Err(Error::rejected(
                "window",
                "this request asked for a duration; approve a shorter duration instead",
            ));
        }
        (Requested::Window(asked), shorter, window) => {
            let frame = window.unwrap_or(asked);
            if !asked.contains(&frame) {
                return Err(Error::rejected(
                    "window",
                    "must lie within the requested time frame",
                ));
            }
            let start = frame.start().max(now);
            let end = match shorter {
                Some(d) if d.delta() > asked.duration() => {
                    return Err(Error::rejected(
                        "duration_seconds",
                        "must not be longer than requested",
                    ));
                }
                Some(d) => (start + d.delta()).min(frame.end()),
                None => frame.end(),
            };
            if end <= now {
                return Err(Error::rejected(
                    "window.end",
                    "the time frame is already over",
                ));
            }
            (start, end)
        }
    };
    Ok(Grant {
        starts_at,
        ends_at,
        permission_set,
    })
}
