//! What callers read: entries, reports, a request's timeline, access now, and an
//! entry's credential during a grant.

use std::collections::HashMap;
use std::sync::PoisonError;

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::audit::{Actor, AuditEvent, EventKind};
use crate::entry::{Caller, Entry};
use crate::error::Error;
use crate::ids::{Email, EntryId, RequestId};
use crate::policy::{self, MyAccess};
use crate::ports::{Credential, StoreError, StoreQuery, Total};
use crate::report::{Cursor, PageSize, ReportOrder};
use crate::request::{AccessRequest, Status};

use super::{Service, StoreResult};

/// Which list a report query covers, as the caller asks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReportScope {
    /// The caller's requests.
    #[default]
    Mine,
    /// Requests the caller is asked to decide.
    Approvals,
    /// Every request (admins only).
    All,
}

impl ReportScope {
    /// Every scope.
    pub const ALL: [ReportScope; 3] = [Self::Mine, Self::Approvals, Self::All];

    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mine => "mine",
            Self::Approvals => "approvals",
            Self::All => "all",
        }
    }

    /// The scope named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s)
    }
}

/// A report query as the caller asks it (before scope is checked).
#[derive(Debug, Clone, Default)]
pub struct ReportParams {
    /// Whose requests.
    pub scope: ReportScope,
    /// Filters.
    pub status: Option<Status>,
    /// Only this entry.
    pub entry_id: Option<EntryId>,
    /// Only this requester.
    pub requester: Option<Email>,
    /// Only this approver.
    pub approver: Option<Email>,
    /// Created at or after.
    pub from: Option<Timestamp>,
    /// Created before.
    pub to: Option<Timestamp>,
    /// Newest or oldest first.
    pub order: ReportOrder,
    /// Page size.
    pub limit: Option<u32>,
    /// The previous page's cursor.
    pub cursor: Option<String>,
    /// Whether to count every request the report selects.
    pub count: bool,
}

/// A page of the requests report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPage {
    /// The requests of this page.
    pub items: Vec<AccessRequest>,
    /// Pass back as `cursor` for the next page; `None` on the last.
    pub next_cursor: Option<String>,
    /// How many requests the pages before this one listed.
    pub offset: u64,
    /// How many requests the report selects over every page, when asked.
    pub total: Option<Total>,
}

impl Service {
    /// Every entry, for the caller, with their access to each now.
    pub async fn entries_for(&self, caller: &Caller) -> Result<Vec<(Entry, MyAccess)>, Error> {
        let now = self.now();
        let store = &self.ports.store;
        let entries = store.entries().await.context("listing entries")?;
        let open = store
            .open_requests_of(&caller.email, now)
            .await
            .context("reading the caller's requests")?;
        Ok(entries
            .into_iter()
            .map(|e| {
                let access = policy::my_access(&open, &e.id, now);
                (e, access)
            })
            .collect())
    }

    /// Every entry (for the report's names of rights).
    pub async fn entry_list(&self) -> Result<Vec<Entry>, Error> {
        self.ports.store.entries().await.context("listing entries")
    }

    /// Display names of the given people (their email when unknown), read from the
    /// store at once for those not read in the last [`super::NAME_TTL`].
    pub async fn names(&self, people: &[Email]) -> Result<HashMap<Email, String>, Error> {
        let now = self.now();
        let fresh = |read: Timestamp| now >= read && now - read < super::NAME_TTL;
        let mut names = HashMap::new();
        let mut wanted = Vec::new();
        {
            let known = self.names.lock().unwrap_or_else(PoisonError::into_inner);
            for p in people {
                match known.get(p) {
                    Some((name, read)) if fresh(*read) => {
                        names.insert(p.clone(), name.clone());
                    }
                    _ => wanted.push(p.clone()),
                }
            }
        }
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(names);
        }
        let users = self
            .ports
            .store
            .users(&wanted)
            .await
            .context("reading users")?;
        let mut read: HashMap<Email, String> =
            wanted.iter().map(|p| (p.clone(), p.to_string())).collect();
        for user in users {
            read.insert(user.email, user.name);
        }
        let mut known = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        known.retain(|_, (_, at)| fresh(*at));
        for (p, name) in read {
            known.insert(p.clone(), (name.clone(), now));
            names.insert(p, name);
        }
        Ok(names)
    }

    /// Reveals an entry's credential to a caller holding an active grant with the
    /// view-password right on it. Every reveal is recorded first.
    ///
    /// The grant is found among the caller's open requests (an index, which on
    /// DynamoDB may lag a moment behind a revocation), then read again by its key,
    /// consistently, and checked again: a grant revoked a moment ago reveals nothing.
    pub async fn reveal_secret(
        &self,
        caller: &Caller,
        entry_id: &EntryId,
    ) -> Result<Credential, Error> {
        let now = self.now();
        let entry = self.entry(entry_id).await?.ok_or(Error::NotFound {
            what: "entry",
            field: None,
        })?;
        let open = self
            .ports
            .store
            .open_requests_of(&caller.email, now)
            .await
            .context("reading the caller's grants")?;
        let candidate = policy::password_grant(&entry, &open, now)?.id;
        let current = self
            .ports
            .store
            .request(&candidate)
            .await
            .context("reading the grant")?;
        let current = current.as_slice();
        let grant = policy::password_grant(&entry, current, now)?;
        if grant.requester != caller.email {
            return Err(Error::forbidden(
                "you have no active grant with the view-password right on this entry",
            ));
        }
        let secret_ref = entry.secret_ref.as_deref().ok_or(Error::NotFound {
            what: "credential",
            field: None,
        })?;
        let revealed = self.event(
            grant.id,
            Actor::User(caller.email.clone()),
            EventKind::PasswordRevealed,
            String::new(),
        );
        self.ports
            .store
            .append_event(&revealed)
            .await
            .context("recording the reveal")?;
        self.ports
            .secrets
            .credential(secret_ref)
            .await
            .map_err(|e| Error::unavailable("reading the credential", e))
    }

    /// A page of the requests report, in the scope the caller may see, with the number
    /// of requests it selects when `params.count` asks for it.
    pub async fn requests(
        &self,
        caller: &Caller,
        params: ReportParams,
    ) -> Result<ReportPage, Error> {
        let count = params.count;
        let query = self.report_query(caller, params)?;
        let bad_cursor = |e| match e {
            StoreError::BadCursor => Error::invalid("cursor", "not a cursor from this report"),
            e => Error::unavailable("querying requests", e),
        };
        let offset = Cursor::listed_before(&query).map_err(bad_cursor)?;
        let page = self.ports.store.query(&query).await.map_err(bad_cursor)?;
        let total = if count {
            Some(
                self.ports
                    .store
                    .count(&query)
                    .await
                    .context("counting requests")?,
            )
        } else {
            None
        };
        Ok(ReportPage {
            items: page.items,
            next_cursor: page.next_cursor,
            offset,
            total,
        })
    }

    fn report_query(&self, caller: &Caller, params: ReportParams) -> Result<StoreQuery, Error> {
        let scope = policy::report_scope(caller, params.scope)?;
        let limit = params
            .limit
            .map_or(Ok(PageSize::default()), PageSize::new)?;
        if let (Some(from), Some(to)) = (params.from, params.to)
            && to <= from
        {
            return Err(Error::invalid("to", "must be after from"));
        }
        Ok(StoreQuery {
            scope,
            status: params.status,
            entry_id: params.entry_id,
            requester: params.requester,
            approver: params.approver,
            from: params.from,
            to: params.to,
            order: params.order,
            limit,
            cursor: params.cursor,
            now: self.now(),
        })
    }

    /// One request and its timeline, for its requester, its approver or an admin.
    pub async fn request_detail(
        &self,
        caller: &Caller,
        id: &RequestId,
    ) -> Result<(AccessRequest, Vec<AuditEvent>), Error> {
        let request = self.request_or_404(id).await?;
        policy::may_view(caller, &request)?;
        let mut events = self
            .ports
            .store
            .events(id)
            .await
            .context("reading the timeline")?;
        if let Some(started) = self.started_event(&request) {
            events.push(started);
            events.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        }
        Ok((request, events))
    }

    /// A grant's start is a moment on the clock, not a write: the timeline shows it
    /// once it has passed (and the grant had not been ended before it).
    fn started_event(&self, r: &AccessRequest) -> Option<AuditEvent> {
        let g = r.grant.as_ref()?;
        let now = self.now();
        let cut = r.revoked_at.unwrap_or(now);
        (g.starts_at <= now && g.starts_at <= cut).then(|| AuditEvent {
            request_id: r.id,
            // Sorts after every stored event at the same instant (ULIDs are 0-9A-Z), so
            // a grant that starts at approval reads "approved" then "started".
            id: "~started".to_owned(),
            at: g.starts_at,
            actor: Actor::SYSTEM,
            kind: EventKind::Started,
            detail: String::new(),
        })
    }

    /// Grants active now: every one for admins, the caller's own otherwise.
    pub async fn access_now(&self, caller: &Caller) -> Result<Vec<AccessRequest>, Error> {
        self.grants(caller, false).await
    }

    /// Grants active now and, with `upcoming`, those approved to start later (the
    /// same read: every grant not yet past its end), by end.
    pub async fn grants(
        &self,
        caller: &Caller,
        upcoming: bool,
    ) -> Result<Vec<AccessRequest>, Error> {
        let now = self.now();
        let grants = self
            .ports
            .store
            .grants_ending_after(now)
            .await
            .context("listing grants")?;
        Ok(grants
            .into_iter()
            .filter(|g| match g.status(now) {
                Status::Active => true,
                Status::Scheduled => upcoming,
                _ => false,
            })
            .filter(|g| policy::may_see_grant(caller, g))
            .collect())
    }
}
