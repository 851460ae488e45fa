//! The contract every [`Store`] keeps, written once and run against each backend.
//!
//! A backend's test file expands [`store_contract_tests!`](crate::store_contract_tests)
//! with an expression that makes a fresh, empty store; each case below becomes one
//! test of that name. Cases take the store as `Arc<dyn Store>` so the race case can
//! hand it to spawned tasks.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, ensure};
use chrono::TimeDelta;
use tempaccess_core::Timestamp;
use tempaccess_core::audit::{Actor, AuditEvent, EventKind};
use tempaccess_core::entry::{Entry, EntryKind, PermissionSet, User};
use tempaccess_core::ids::{self, Email, EntryId, PermissionSetId, RequestId};
use tempaccess_core::ports::{
    Change, CreateRequest, IDEMPOTENCY_WINDOW, IdempotencyKey, Mail, MailPurpose, OutgoingMail,
    Page, PendingRotation, Scope, StoreError, StoreQuery, Total,
};
use tempaccess_core::report::{PageSize, ReportOrder};
use tempaccess_core::request::{
    AccessRequest, DEFAULT_PENDING_EXPIRY, Grant, Op, Status, SubmitCommand,
};
use tempaccess_core::testing::every_request;
use tempaccess_core::text::Message;
use tempaccess_core::timing::{AccessDuration, Requested};
use tempaccess_core::token::{DecisionToken, TokenHash, TokenRecord};

pub use tempaccess_core::ports::Store;

/// One `#[tokio::test]` per contract case, each on a store made by `$make`, an
/// expression of a future that yields a fresh, empty store, e.g.
/// `store_contract_tests!(async { SqliteStore::in_memory().unwrap() });`.
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::store_contract_tests!(@cases $make;
            entries_and_users_round_trip,
            users_are_read_together_and_unknown_ones_left_out,
            a_created_request_is_read_back_with_its_event_token_and_mail,
            a_reused_idempotency_key_returns_the_first_request_and_writes_nothing,
            idempotency_keys_belong_to_one_requester,
            an_idempotency_key_is_free_after_its_window,
            one_pending_request_per_requester_and_entry,
            concurrent_requests_for_one_entry_leave_one_pending,
            another_token_for_a_request_is_kept_beside_the_first,
            apply_writes_the_request_its_event_and_its_mail,
            a_stale_apply_conflicts_and_writes_nothing,
            a_create_that_fails_part_way_writes_nothing,
            an_apply_that_fails_part_way_writes_nothing,
            concurrent_applies_from_one_version_let_exactly_one_win,
            events_are_ordered_by_time_then_id,
            query_scopes_cover_whose_requests,
            query_filters_by_entry_requester_and_approver,
            query_status_is_read_against_now,
            query_dates_are_from_inclusive_to_exclusive,
            query_pages_have_no_gaps_or_duplicates,
            query_oldest_first_pages_in_order_in_every_scope,
            count_is_every_page_whatever_the_order_or_cursor,
            query_rejects_a_cursor_it_did_not_make,
            query_refuses_a_cursor_from_another_query,
            open_requests_of_are_pending_requests_and_unfinished_grants,
            grants_ending_after_are_approved_grants_by_end,
            overdue_grants_are_approved_grants_past_their_end,
            stale_pending_are_pending_requests_past_their_expiry,
            due_mail_is_retried_later_or_given_up,
            a_sent_mail_leaves_the_outbox_with_its_event,
            delivered_mail_leaves_the_outbox,
            a_rotation_is_written_with_the_end_that_calls_for_it,
            due_rotations_are_retried_later_or_given_up,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() -> ::anyhow::Result<()> {
                let store: ::std::sync::Arc<dyn $crate::store_contract::Store> =
                    ::std::sync::Arc::new($make.await);
                $crate::store_contract::$case(store).await
            }
        )*
    };
}

// ---- fixtures ----------------------------------------------------------------------

/// The suite's clock: `minutes` after a fixed instant in 2030.
pub fn at(minutes: i64) -> Timestamp {
    chrono::DateTime::from_timestamp(1_900_000_000, 0).expect("a valid instant")
        + TimeDelta::minutes(minutes)
}

/// A far future, after everything the cases schedule.
fn far_future() -> Timestamp {
    at(1_000_000)
}

/// A parsed address.
pub fn email(s: &str) -> Email {
    Email::parse(s).expect("a valid address")
}

/// A fresh number, for ids and tokens that must not collide.
fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn ulid_at(t: Timestamp) -> String {
    ids::ulid(t, u128::from(unique()))
}

fn message(s: &str) -> Message {
    Message::parse(s, "message").expect("a valid message")
}

/// An entry approved by bob.
pub fn entry(id: &str, name: &str) -> Entry {
    let max = AccessDuration::from_seconds(8 * 3600, "max_duration").expect("a valid duration");
    Entry {
        id: EntryId::parse(id).expect("a valid entry id"),
        name: name.to_owned(),
        kind: EntryKind::Credential,
        folder: "Databases/Production".to_owned(),
        approvers: vec![email("bob@example.com")],
        permission_sets: vec![PermissionSet::view_password_execute()],
        duration_presets: vec![max],
        max_duration: max,
        message_required: false,
        secret_ref: Some(format!("tempaccess/{id}")),
        rotates: true,
    }
}

/// A mail to `to` about the request.
fn mail_to(to: &Email, subject: &str) -> Mail {
    Mail {
        to: to.clone(),
        subject: subject.to_owned(),
        text: format!("{subject}, in text"),
        html: format!("<p>{subject}, in HTML</p>"),
    }
}

fn outgoing(
    request: &AccessRequest,
    to: &Email,
    due: Timestamp,
    purpose: MailPurpose,
) -> OutgoingMail {
    OutgoingMail {
        id: ulid_at(due),
        request_id: request.id,
        purpose,
        mail: mail_to(to, &format!("About {}", request.id)),
        attempts: 0,
        next_attempt_at: due,
    }
}

/// A pending request of `requester` to `approver` for `entry_id`, sent at `created_at`,
/// with everything written with it: its event, the approver's token (dead at expiry)
/// and the approver's mail (due a minute later).
pub fn new_request(
    requester: &str,
    approver: &str,
    entry_id: &str,
    created_at: Timestamp,
) -> CreateRequest {
    let asked = SubmitCommand {
        entry_id: EntryId::parse(entry_id).expect("a valid entry id"),
        permission_set: PermissionSetId::view_password_execute(),
        approver: email(approver),
        requested: Requested::Duration(
            AccessDuration::from_seconds(3600, "duration_seconds").expect("a valid duration"),
        ),
        message: message("Please"),
    };
    let request = AccessRequest::pending(
        RequestId::new(created_at, u128::from(unique())),
        email(requester),
        asked,
        format!("The {entry_id} entry"),
        created_at,
        created_at + DEFAULT_PENDING_EXPIRY,
    );
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&unique().to_le_bytes());
    let token = DecisionToken::from_bytes(seed);
    CreateRequest {
        event: AuditEvent {
            request_id: request.id,
            id: ulid_at(created_at),
            at: created_at,
            actor: Actor::User(request.requester.clone()),
            kind: EventKind::Requested,
            detail: "1 h".to_owned(),
        },
        token: TokenRecord {
            hash: token.hash(),
            request_id: request.id,
            approver: request.approver.clone(),
            expires_at: request.expires_at,
        },
        outbox: vec![outgoing(
            &request,
            &request.approver,
            created_at + TimeDelta::minutes(1),
            MailPurpose::DecisionRequested,
        )],
        idempotency: None,
        one_pending_per_entry: false,
        request,
    }
}

/// Sends `new` with the requester's idempotency key `key`.
pub fn use_key(new: &mut CreateRequest, key: &str) {
    new.idempotency = Some(IdempotencyKey::used_at(
        key.to_owned(),
        new.request.created_at,
    ));
}

/// The change `op` at `t` makes to `before`, as the service builds it: the next
/// request, its event and a notice to the requester due at once.
pub fn change(before: &AccessRequest, op: Op, t: Timestamp) -> Change {
    let transition = before
        .apply(op, t)
        .expect("the fixture's transition is allowed");
    Change {
        event: AuditEvent {
            request_id: before.id,
            id: ulid_at(t),
            at: t,
            actor: transition.actor,
            kind: transition.kind,
            detail: transition.detail,
        },
        expected_version: before.version,
        outbox: vec![outgoing(before, &before.requester, t, MailPurpose::Notice)],
        rotations: vec![],
        request: transition.next,
    }
}

/// Approval by the approver at `t` of a grant from `starts` to `ends`.
pub fn approve(before: &AccessRequest, t: Timestamp, starts: Timestamp, ends: Timestamp) -> Change {
    let op = Op::Approve {
        by: before.approver.clone(),
        grant: Grant {
            starts_at: starts,
            ends_at: ends,
            permission_set: before.permission_set.clone(),
        },
        comment: message("Approved"),
    };
    change(before, op, t)
}

/// Denial by the approver at `t`.
pub fn deny(before: &AccessRequest, t: Timestamp) -> Change {
    let op = Op::Deny {
        by: before.approver.clone(),
        comment: message("No"),
    };
    change(before, op, t)
}

/// Writes a new request and returns it as stored.
async fn create(store: &dyn Store, new: CreateRequest) -> anyhow::Result<AccessRequest> {
    let request = new.request.clone();
    store.create_request(new).await?;
    Ok(request)
}

/// Writes a change and returns the request after it.
async fn commit(store: &dyn Store, change: Change) -> anyhow::Result<AccessRequest> {
    let request = change.request.clone();
    store.apply(change).await?;
    Ok(request)
}

/// A request of alice to bob for `prod-db`, sent at `created`.
async fn pending(store: &dyn Store, created: Timestamp) -> anyhow::Result<AccessRequest> {
    create(
        store,
        new_request("alice@example.com", "bob@example.com", "prod-db", created),
    )
    .await
}

/// A request of alice approved when sent, for a grant from `starts` to `ends`.
async fn granted(
    store: &dyn Store,
    created: Timestamp,
    starts: Timestamp,
    ends: Timestamp,
) -> anyhow::Result<AccessRequest> {
    let r = pending(store, created).await?;
    commit(store, approve(&r, created, starts, ends)).await
}

/// The ids of the one page `query` selects; the store's count of the query must agree.
async fn ids_of(store: &dyn Store, query: StoreQuery) -> anyhow::Result<Vec<RequestId>> {
    let page = store.query(&query).await?;
    ensure!(
        page.next_cursor.is_none(),
        "one page expected, got a cursor"
    );
    let counted = store.count(&query).await?;
    ensure!(
        counted == Total::Exact(page.items.len() as u64),
        "count says {counted:?}, the page lists {}: {query:?}",
        page.items.len()
    );
    Ok(page.items.iter().map(|r| r.id).collect())
}

/// Every page of `query` in turn, `limit` at a time: the ids, in order.
async fn every_page(
    store: &dyn Store,
    query: StoreQuery,
    limit: u32,
) -> anyhow::Result<Vec<RequestId>> {
    let mut query = StoreQuery {
        limit: PageSize::new(limit)?,
        ..query
    };
    let mut visited = Vec::new();
    for _ in 0..100 {
        let Page { items, next_cursor } = store.query(&query).await?;
        visited.extend(items.iter().map(|r| r.id));
        match next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(visited),
        }
    }
    anyhow::bail!("pages never end: {query:?}")
}

fn ids<'a>(requests: impl IntoIterator<Item = &'a AccessRequest>) -> Vec<RequestId> {
    requests.into_iter().map(|r| r.id).collect()
}

/// Newest first, as reports list them by default.
fn newest_first(requests: &[&AccessRequest]) -> Vec<RequestId> {
    let mut sorted = oldest_first(requests);
    sorted.reverse();
    sorted
}

/// Oldest first (ties by id, lowest first), as an inbox lists them.
fn oldest_first(requests: &[&AccessRequest]) -> Vec<RequestId> {
    let mut sorted: Vec<_> = requests.iter().map(|r| (r.created_at, r.id)).collect();
    sorted.sort();
    sorted.into_iter().map(|(_, id)| id).collect()
}

fn mail_ids(mails: &[OutgoingMail]) -> BTreeSet<String> {
    mails.iter().map(|m| m.id.clone()).collect()
}

// ---- cases -------------------------------------------------------------------------

/// Entries and users are written, replaced and read back whole.
pub async fn entries_and_users_round_trip(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let b = entry("web-admin", "Web admin");
    let a = entry("prod-db", "Production database");
    store.put_entry(&b).await?;
    store.put_entry(&a).await?;
    assert_eq!(store.entry(&a.id).await?, Some(a.clone()));
    assert_eq!(store.entries().await?, vec![a.clone(), b.clone()], "by id");

    let renamed = Entry {
        name: "Production DB".to_owned(),
        approvers: vec![email("bob@example.com"), email("dave@example.com")],
        ..a.clone()
    };
    store.put_entry(&renamed).await?;
    assert_eq!(store.entry(&a.id).await?, Some(renamed.clone()));
    assert_eq!(store.entries().await?, vec![renamed, b]);
    let missing = EntryId::parse("no-such-entry")?;
    assert_eq!(store.entry(&missing).await?, None);

    let carol = User {
        email: email("carol@example.com"),
        name: "Carol".to_owned(),
        roles: vec!["admin".to_owned()],
    };
    store.put_user(&carol).await?;
    assert_eq!(store.user(&carol.email).await?, Some(carol.clone()));
    let demoted = User {
        name: "Carol C.".to_owned(),
        roles: vec![],
        ..carol.clone()
    };
    store.put_user(&demoted).await?;
    assert_eq!(store.user(&carol.email).await?, Some(demoted));
    assert_eq!(store.user(&email("alice@example.com")).await?, None);
    Ok(())
}

/// Many users are read at once (more than one batch of a store that reads in
/// batches); an email no user has is left out, a repeated one read once.
pub async fn users_are_read_together_and_unknown_ones_left_out(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let mut made = Vec::new();
    for i in 0..130 {
        let user = User {
            email: email(&format!("person{i:03}@example.com")),
            name: format!("Person {i}"),
            roles: vec![],
        };
        store.put_user(&user).await?;
        made.push(user);
    }
    let mut wanted: Vec<Email> = made.iter().map(|u| u.email.clone()).collect();
    wanted.push(email("nobody@example.com"));
    let mut got = store.users(&wanted).await?;
    got.sort_by(|a, b| a.email.cmp(&b.email));
    assert_eq!(got, made);
    assert_eq!(store.users(&[]).await?, vec![]);
    assert_eq!(store.users(&[email("nobody@example.com")]).await?, vec![]);
    Ok(())
}

/// A new request is stored with its event, token and mail, all read back whole.
pub async fn a_created_request_is_read_back_with_its_event_token_and_mail(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let mut new = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    // Sub-second times survive the round trip.
    new.request.created_at += TimeDelta::milliseconds(250);
    let (request, event, token, mail) = (
        new.request.clone(),
        new.event.clone(),
        new.token.clone(),
        new.outbox[0].clone(),
    );
    store.create_request(new).await?;

    assert_eq!(store.request(&request.id).await?, Some(request.clone()));
    assert_eq!(store.events(&request.id).await?, vec![event]);
    assert_eq!(store.token(&token.hash).await?, Some(token));
    assert_eq!(store.token(&TokenHash("0".repeat(64))).await?, None);
    assert_eq!(store.due_mail(far_future(), 100).await?, vec![mail]);
    let other = RequestId::new(at(0), 42);
    assert_eq!(store.request(&other).await?, None);
    assert_eq!(store.events(&other).await?, vec![]);
    Ok(())
}

/// A second request with a requester's used key is refused with the first request's
/// id, and none of it is written.
pub async fn a_reused_idempotency_key_returns_the_first_request_and_writes_nothing(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let mut first = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    use_key(&mut first, "key-1");
    let first = create(store, first).await?;

    for attempt in 1..=2 {
        let mut again = new_request(
            "alice@example.com",
            "bob@example.com",
            "prod-db",
            at(attempt),
        );
        use_key(&mut again, "key-1");
        let (id, token) = (again.request.id, again.token.hash.clone());
        match store.create_request(again).await {
            Err(StoreError::Duplicate { existing }) => assert_eq!(existing, first.id),
            other => panic!("attempt {attempt}: expected Duplicate, got {other:?}"),
        }
        assert_eq!(store.request(&id).await?, None);
        assert_eq!(store.events(&id).await?, vec![]);
        assert_eq!(store.token(&token).await?, None);
    }
    let due = store.due_mail(far_future(), 100).await?;
    assert_eq!(due.len(), 1, "only the first request's mail: {due:?}");
    assert_eq!(due[0].request_id, first.id);
    assert_eq!(ids_of(store, every_request(at(10))).await?, vec![first.id]);
    Ok(())
}

/// With `one_pending_per_entry`, a requester has one pending request per entry: a
/// second is refused naming the first and writes nothing, until the first is decided,
/// cancelled or past its expiry (swept or not). Other entries and other requesters
/// are not held back.
pub async fn one_pending_request_per_requester_and_entry(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let held = |who: &str, entry: &str, t: Timestamp| {
        let mut new = new_request(who, "bob@example.com", entry, t);
        new.one_pending_per_entry = true;
        new
    };
    let first = create(store, held("alice@example.com", "prod-db", at(0))).await?;

    let second = held("alice@example.com", "prod-db", at(1));
    let (id, token) = (second.request.id, second.token.hash.clone());
    match store.create_request(second).await {
        Err(StoreError::OpenRequest { existing }) => assert_eq!(existing, first.id),
        other => panic!("expected OpenRequest, got {other:?}"),
    }
    assert_eq!(store.request(&id).await?, None, "nothing written");
    assert_eq!(store.token(&token).await?, None, "nothing written");
    create(store, held("alice@example.com", "web-admin", at(1))).await?;
    create(store, held("carol@example.com", "prod-db", at(1))).await?;

    // Decided: the place is free.
    commit(store, approve(&first, at(2), at(2), at(62))).await?;
    let third = create(store, held("alice@example.com", "prod-db", at(3))).await?;
    // Cancelled: free again.
    let cancel = change(
        &third,
        Op::Cancel {
            by: third.requester.clone(),
            reason: Message::default(),
        },
        at(4),
    );
    commit(store, cancel).await?;
    let fourth = create(store, held("alice@example.com", "prod-db", at(5))).await?;
    // Past its expiry, whether or not the sweep has marked it: free.
    let after = fourth.expires_at;
    create(store, held("alice@example.com", "prod-db", after)).await?;
    Ok(())
}

/// Requests for one entry sent at once by one requester: exactly one is written.
pub async fn concurrent_requests_for_one_entry_leave_one_pending(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut new = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
            new.one_pending_per_entry = true;
            store.create_request(new).await
        }));
    }
    let mut written = 0;
    for task in tasks {
        match task.await? {
            Ok(()) => written += 1,
            Err(StoreError::OpenRequest { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    ensure!(written == 1, "{written} of 8 were written");
    let query = StoreQuery {
        scope: Scope::RequestedBy(email("alice@example.com")),
        ..every_request(at(10))
    };
    ensure!(ids_of(&*store, query).await?.len() == 1);
    Ok(())
}

/// A request may have more than one live token (a decision mail sent again carries a
/// new link); each names the request and its approver.
pub async fn another_token_for_a_request_is_kept_beside_the_first(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let new = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    let first = new.token.clone();
    create(store, new).await?;
    let mut seed = [9u8; 32];
    seed[..8].copy_from_slice(&unique().to_le_bytes());
    let second = TokenRecord {
        hash: DecisionToken::from_bytes(seed).hash(),
        ..first.clone()
    };
    store.put_token(&second).await?;
    store.put_token(&second).await?;
    assert_eq!(store.token(&first.hash).await?, Some(first));
    assert_eq!(store.token(&second.hash).await?, Some(second));
    Ok(())
}

/// The same key sent by two requesters makes two requests; no key never collides.
pub async fn idempotency_keys_belong_to_one_requester(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let store = &*store;
    let mut alices = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    use_key(&mut alices, "same-key");
    let mut carols = new_request("carol@example.com", "bob@example.com", "prod-db", at(1));
    use_key(&mut carols, "same-key");
    let alices = create(store, alices).await?;
    let carols = create(store, carols).await?;
    let keyless_1 = pending(store, at(2)).await?;
    let keyless_2 = pending(store, at(3)).await?;
    assert_eq!(store.request(&carols.id).await?, Some(carols.clone()));
    assert_eq!(
        ids_of(store, every_request(at(10))).await?,
        ids([&keyless_2, &keyless_1, &carols, &alices])
    );
    Ok(())
}

/// A used key holds for its window after the request it made: a repeat within it is
/// the first request, a request after it is new and takes the key over.
pub async fn an_idempotency_key_is_free_after_its_window(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let again = |minutes: i64| {
        let mut new = new_request(
            "alice@example.com",
            "bob@example.com",
            "prod-db",
            at(minutes),
        );
        use_key(&mut new, "key-1");
        new
    };
    let first = create(store, again(0)).await?;
    let window = IDEMPOTENCY_WINDOW.num_minutes();
    match store.create_request(again(window - 1)).await {
        Err(StoreError::Duplicate { existing }) => assert_eq!(existing, first.id),
        other => panic!("within the window: expected Duplicate, got {other:?}"),
    }
    let second = create(store, again(window)).await?;
    match store.create_request(again(window + 1)).await {
        Err(StoreError::Duplicate { existing }) => assert_eq!(existing, second.id),
        other => panic!("the key taken over: expected Duplicate, got {other:?}"),
    }
    assert_eq!(
        ids_of(store, every_request(at(3 * window))).await?,
        ids([&second, &first])
    );
    Ok(())
}

/// A transition from the stored version replaces the request and appends its event
/// and mail.
pub async fn apply_writes_the_request_its_event_and_its_mail(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let new = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    let created_event = new.event.clone();
    let request = create(store, new).await?;

    let approval = approve(&request, at(5), at(5), at(65));
    let approved = commit(store, approval.clone()).await?;
    assert_eq!(approved.version, 1);
    assert_eq!(store.request(&request.id).await?, Some(approved.clone()));
    assert_eq!(
        store.events(&request.id).await?,
        vec![created_event.clone(), approval.event.clone()]
    );
    assert!(mail_ids(&store.due_mail(far_future(), 100).await?).contains(&approval.outbox[0].id));

    let end = change(&approved, Op::End, at(70));
    let ended = commit(store, end.clone()).await?;
    assert_eq!(store.request(&request.id).await?, Some(ended));
    assert_eq!(
        store.events(&request.id).await?,
        vec![created_event, approval.event, end.event]
    );
    Ok(())
}

/// A transition from a version the request has left is refused with the request as it
/// is now, and writes no request, event or mail.
pub async fn a_stale_apply_conflicts_and_writes_nothing(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let new = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    let created_event = new.event.clone();
    let original = create(store, new).await?;
    let approval = approve(&original, at(5), at(5), at(65));
    let approved = commit(store, approval.clone()).await?;
    let mails_before = mail_ids(&store.due_mail(far_future(), 100).await?);

    let stale = deny(&original, at(6));
    let mut ahead = change(&approved, Op::End, at(70));
    ahead.expected_version = 7;
    for refused in [stale, ahead] {
        match store.apply(refused.clone()).await {
            Err(StoreError::Conflict { current }) => assert_eq!(*current, approved),
            other => panic!("expected Conflict, got {other:?}"),
        }
        assert_eq!(store.request(&original.id).await?, Some(approved.clone()));
        assert_eq!(
            store.events(&original.id).await?,
            vec![created_event.clone(), approval.event.clone()]
        );
        let mails = mail_ids(&store.due_mail(far_future(), 100).await?);
        assert_eq!(mails, mails_before);
        assert!(!mails.contains(&refused.outbox[0].id));
    }
    Ok(())
}

/// A create whose last item cannot be written (two mails with one id) fails whole:
/// no request, event, token or mail, and its idempotency key stays unused.
pub async fn a_create_that_fails_part_way_writes_nothing(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let mut broken = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    use_key(&mut broken, "key-1");
    broken.outbox.push(broken.outbox[0].clone());
    let (id, token) = (broken.request.id, broken.token.hash.clone());
    assert!(store.create_request(broken).await.is_err());
    assert_eq!(store.request(&id).await?, None);
    assert_eq!(store.events(&id).await?, vec![]);
    assert_eq!(store.token(&token).await?, None);
    assert_eq!(store.due_mail(far_future(), 10).await?, vec![]);

    let mut retry = new_request("alice@example.com", "bob@example.com", "prod-db", at(1));
    use_key(&mut retry, "key-1");
    let retried = create(store, retry).await?;
    assert_eq!(ids_of(store, every_request(at(10))).await?, ids([&retried]));
    Ok(())
}

/// A transition whose last item cannot be written fails whole: the request keeps its
/// version, and no event or mail of it exists.
pub async fn an_apply_that_fails_part_way_writes_nothing(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let new = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    let created_event = new.event.clone();
    let request = create(store, new).await?;
    let mails_before = store.due_mail(far_future(), 10).await?;

    let mut broken = approve(&request, at(5), at(5), at(65));
    broken.outbox.push(broken.outbox[0].clone());
    assert!(store.apply(broken).await.is_err());
    assert_eq!(store.request(&request.id).await?, Some(request.clone()));
    assert_eq!(store.events(&request.id).await?, vec![created_event]);
    assert_eq!(store.due_mail(far_future(), 10).await?, mails_before);

    let approved = commit(store, approve(&request, at(6), at(6), at(66))).await?;
    assert_eq!(
        approved.version, 1,
        "the same version applies once the write can succeed"
    );
    Ok(())
}

/// Two transitions racing from the same version: one is written, the other gets
/// `Conflict` with the winner's request, and only the winner's event and mail exist.
pub async fn concurrent_applies_from_one_version_let_exactly_one_win(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    for round in 0..5 {
        let request = pending(&*store, at(round)).await?;
        let approval = approve(&request, at(round + 1), at(round + 1), at(round + 61));
        let denial = deny(&request, at(round + 1));
        let race = [approval, denial].map(|c| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let outcome = store.apply(c.clone()).await;
                (c, outcome)
            })
        });
        let mut winners = Vec::new();
        let mut losers = Vec::new();
        for task in race {
            let (c, outcome) = task.await?;
            match outcome {
                Ok(()) => winners.push(c),
                Err(StoreError::Conflict { current }) => losers.push((c, current)),
                Err(e) => return Err(e).context("neither won nor conflicted"),
            }
        }
        assert_eq!((winners.len(), losers.len()), (1, 1), "round {round}");
        let (winner, (loser, seen)) = (&winners[0], &losers[0]);
        assert_eq!(**seen, winner.request, "the loser sees the winner's write");
        assert_eq!(
            store.request(&request.id).await?,
            Some(winner.request.clone())
        );
        let kinds: Vec<_> = store
            .events(&request.id)
            .await?
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, vec![EventKind::Requested, winner.event.kind]);
        let mails = mail_ids(&store.due_mail(far_future(), 100).await?);
        assert!(mails.contains(&winner.outbox[0].id));
        assert!(!mails.contains(&loser.outbox[0].id));
    }
    Ok(())
}

/// A request's events come back by time, then id, whatever order they were written in,
/// and never mixed with another request's.
pub async fn events_are_ordered_by_time_then_id(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let store = &*store;
    let new = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    let requested = new.event.clone();
    let request = create(store, new).await?;
    let other = pending(store, at(0)).await?;

    let event = |t: Timestamp, random: u128, kind: EventKind| AuditEvent {
        request_id: request.id,
        id: ids::ulid(t, random),
        at: t,
        actor: Actor::SYSTEM,
        kind,
        detail: String::new(),
    };
    let t = at(1);
    // Time decides before the id: this id sorts after every other one.
    let half = AuditEvent {
        id: ids::ulid(t + TimeDelta::minutes(5), 1),
        ..event(t + TimeDelta::milliseconds(500), 1, EventKind::Notified)
    };
    let whole = event(t + TimeDelta::seconds(1), 1, EventKind::Viewed);
    let tie_low = event(t + TimeDelta::seconds(2), 10, EventKind::EmailFailed);
    let tie_high = event(t + TimeDelta::seconds(2), 20, EventKind::EmailRetried);
    let on_the_minute = event(t, 5, EventKind::Notified);
    for e in [&tie_high, &whole, &tie_low, &half, &on_the_minute] {
        store.append_event(e).await?;
    }
    store
        .append_event(&AuditEvent {
            request_id: other.id,
            ..event(t, 7, EventKind::Viewed)
        })
        .await?;

    assert_eq!(
        store.events(&request.id).await?,
        vec![requested, on_the_minute, half, whole, tie_low, tie_high]
    );
    assert_eq!(store.events(&other.id).await?.len(), 2);
    Ok(())
}

/// Scopes select the requests someone made, someone is asked to decide, or all.
pub async fn query_scopes_cover_whose_requests(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let store = &*store;
    let a1 = create(
        store,
        new_request("alice@example.com", "bob@example.com", "prod-db", at(0)),
    )
    .await?;
    let c1 = create(
        store,
        new_request("carol@example.com", "bob@example.com", "prod-db", at(1)),
    )
    .await?;
    let a2 = create(
        store,
        new_request("alice@example.com", "dave@example.com", "web-admin", at(2)),
    )
    .await?;
    let b1 = create(
        store,
        new_request("bob@example.com", "dave@example.com", "web-admin", at(3)),
    )
    .await?;
    let now = at(10);

    let scoped = |scope| StoreQuery {
        scope,
        ..every_request(now)
    };
    assert_eq!(
        ids_of(store, every_request(now)).await?,
        ids([&b1, &a2, &c1, &a1])
    );
    assert_eq!(
        ids_of(
            store,
            scoped(Scope::RequestedBy(email("alice@example.com")))
        )
        .await?,
        ids([&a2, &a1])
    );
    assert_eq!(
        ids_of(store, scoped(Scope::ApprovedBy(email("bob@example.com")))).await?,
        ids([&c1, &a1])
    );
    assert_eq!(
        ids_of(store, scoped(Scope::ApprovedBy(email("dave@example.com")))).await?,
        ids([&b1, &a2])
    );
    assert_eq!(
        ids_of(store, scoped(Scope::RequestedBy(email("bob@example.com")))).await?,
        ids([&b1])
    );
    assert_eq!(
        ids_of(store, scoped(Scope::RequestedBy(email("erin@example.com")))).await?,
        vec![]
    );
    Ok(())
}

/// Each filter narrows the scope, and filters combine.
pub async fn query_filters_by_entry_requester_and_approver(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let a_bob_db = create(
        store,
        new_request("alice@example.com", "bob@example.com", "prod-db", at(0)),
    )
    .await?;
    let c_bob_db = create(
        store,
        new_request("carol@example.com", "bob@example.com", "prod-db", at(1)),
    )
    .await?;
    let a_dave_web = create(
        store,
        new_request("alice@example.com", "dave@example.com", "web-admin", at(2)),
    )
    .await?;
    let c_dave_db = create(
        store,
        new_request("carol@example.com", "dave@example.com", "prod-db", at(3)),
    )
    .await?;
    let q = every_request(at(10));
    let (alice, carol) = (email("alice@example.com"), email("carol@example.com"));
    let (bob, dave) = (email("bob@example.com"), email("dave@example.com"));

    let by_entry = StoreQuery {
        entry_id: Some(EntryId::parse("prod-db")?),
        ..q.clone()
    };
    assert_eq!(
        ids_of(store, by_entry.clone()).await?,
        ids([&c_dave_db, &c_bob_db, &a_bob_db])
    );
    let by_requester = StoreQuery {
        requester: Some(carol.clone()),
        ..q.clone()
    };
    assert_eq!(
        ids_of(store, by_requester).await?,
        ids([&c_dave_db, &c_bob_db])
    );
    let by_approver = StoreQuery {
        approver: Some(dave.clone()),
        ..q.clone()
    };
    assert_eq!(
        ids_of(store, by_approver).await?,
        ids([&c_dave_db, &a_dave_web])
    );
    let all_three = StoreQuery {
        requester: Some(carol.clone()),
        approver: Some(bob.clone()),
        ..by_entry.clone()
    };
    assert_eq!(ids_of(store, all_three).await?, ids([&c_bob_db]));
    let within_scope = StoreQuery {
        scope: Scope::RequestedBy(alice.clone()),
        approver: Some(dave.clone()),
        ..q.clone()
    };
    assert_eq!(ids_of(store, within_scope).await?, ids([&a_dave_web]));
    let disjoint = StoreQuery {
        scope: Scope::RequestedBy(alice),
        requester: Some(carol),
        ..q
    };
    assert_eq!(ids_of(store, disjoint).await?, vec![]);
    Ok(())
}

/// The status filter reads each request against the query's `now`: pending past its
/// expiry is expired, an approved grant is scheduled, active or ended by its times.
pub async fn query_status_is_read_against_now(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let store = &*store;
    let now = at(1000);
    let expiry = DEFAULT_PENDING_EXPIRY.num_minutes();
    let mut all = Vec::new();

    let pending_now = pending(store, at(900)).await?;
    let expired_by_clock = pending(store, at(-600)).await?;
    let expires_now = pending(store, at(1000 - expiry)).await?;
    let r = pending(store, at(-1000)).await?;
    let expired = commit(store, change(&r, Op::Expire, at(-1000 + expiry + 10))).await?;
    let scheduled = granted(store, at(900), at(1100), at(1200)).await?;
    let active = granted(store, at(800), at(800), at(1100)).await?;
    let starts_now = granted(store, at(950), at(1000), at(1100)).await?;
    let ended_by_clock = granted(store, at(700), at(700), at(800)).await?;
    let ends_now = granted(store, at(600), at(600), at(1000)).await?;
    let r = granted(store, at(500), at(500), at(560)).await?;
    let ended = commit(store, change(&r, Op::End, at(600))).await?;
    let r = pending(store, at(400)).await?;
    let denied = commit(store, deny(&r, at(410))).await?;
    let r = pending(store, at(300)).await?;
    let cancel = Op::Cancel {
        by: r.requester.clone(),
        reason: message("Not needed"),
    };
    let cancelled = commit(store, change(&r, cancel, at(310))).await?;
    let r = granted(store, at(200), at(200), at(5000)).await?;
    let revoke = Op::Revoke {
        by: email("carol@example.com"),
        reason: message("Incident"),
    };
    let revoked = commit(store, change(&r, revoke, at(210))).await?;
    all.extend([
        &pending_now,
        &expired_by_clock,
        &expires_now,
        &expired,
        &scheduled,
        &active,
        &starts_now,
        &ended_by_clock,
        &ends_now,
        &ended,
        &denied,
        &cancelled,
        &revoked,
    ]);

    let expected = [
        (Status::Pending, vec![&pending_now]),
        (
            Status::Expired,
            vec![&expires_now, &expired_by_clock, &expired],
        ),
        (Status::Scheduled, vec![&scheduled]),
        (Status::Active, vec![&starts_now, &active]),
        (Status::Ended, vec![&ended_by_clock, &ends_now, &ended]),
        (Status::Denied, vec![&denied]),
        (Status::Cancelled, vec![&cancelled]),
        (Status::Revoked, vec![&revoked]),
    ];
    let mut seen = HashSet::new();
    for (status, members) in expected {
        // The fixtures are what the domain reads them as; the store must agree.
        let by_domain: Vec<_> = all
            .iter()
            .copied()
            .filter(|r| r.status(now) == status)
            .collect();
        assert_eq!(
            newest_first(&members),
            newest_first(&by_domain),
            "{status} fixtures"
        );
        let query = StoreQuery {
            status: Some(status),
            ..every_request(now)
        };
        assert_eq!(
            ids_of(store, query).await?,
            newest_first(&members),
            "{status}"
        );
        seen.extend(members.iter().map(|r| r.id));
    }
    assert_eq!(seen.len(), all.len(), "every request has one status");

    // Later, the scheduled grant is running and the running one is over.
    let later = at(1150);
    let active_later = StoreQuery {
        status: Some(Status::Active),
        ..every_request(later)
    };
    assert_eq!(ids_of(store, active_later).await?, ids([&scheduled]));
    let scheduled_later = StoreQuery {
        status: Some(Status::Scheduled),
        ..every_request(later)
    };
    assert_eq!(ids_of(store, scheduled_later).await?, vec![]);
    // Earlier, the pending request that has expired by now was still pending.
    let pending_earlier = StoreQuery {
        status: Some(Status::Pending),
        ..every_request(at(0))
    };
    let earlier = ids_of(store, pending_earlier).await?;
    assert!(earlier.contains(&expired_by_clock.id) && earlier.contains(&expires_now.id));
    Ok(())
}

/// `from` includes its instant, `to` excludes its own.
pub async fn query_dates_are_from_inclusive_to_exclusive(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let r0 = pending(store, at(0)).await?;
    let r10 = pending(store, at(10)).await?;
    let r15 = pending(store, at(15)).await?;
    let r20 = pending(store, at(20)).await?;
    let q = every_request(at(30));
    let range = |from: Option<i64>, to: Option<i64>| StoreQuery {
        from: from.map(at),
        to: to.map(at),
        ..q.clone()
    };
    assert_eq!(
        ids_of(store, range(Some(10), Some(20))).await?,
        ids([&r15, &r10])
    );
    assert_eq!(
        ids_of(store, range(Some(10), None)).await?,
        ids([&r20, &r15, &r10])
    );
    assert_eq!(ids_of(store, range(None, Some(10))).await?, ids([&r0]));
    assert_eq!(ids_of(store, range(Some(11), Some(15))).await?, vec![]);
    assert_eq!(ids_of(store, range(Some(-5), Some(21))).await?.len(), 4);
    Ok(())
}

/// Following cursors visits every match once, newest first (ties on creation time by
/// id), and the last page has no cursor, even when it is full.
pub async fn query_pages_have_no_gaps_or_duplicates(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let store = &*store;
    let mut made = Vec::new();
    for (minute, requester) in [
        (0, "alice@example.com"),
        (1, "bob@example.com"),
        (2, "alice@example.com"),
        (2, "alice@example.com"),
        (2, "bob@example.com"),
        (3, "alice@example.com"),
        (4, "alice@example.com"),
        (5, "alice@example.com"),
    ] {
        let new = new_request(requester, "dave@example.com", "prod-db", at(minute));
        made.push(create(store, new).await?);
    }
    let everyone: Vec<_> = made.iter().collect();
    let alices: Vec<_> = made
        .iter()
        .filter(|r| r.requester.as_str() == "alice@example.com")
        .collect();

    let cases = [
        (
            every_request(at(10)),
            newest_first(&everyone),
            vec![3, 3, 2],
        ),
        (every_request(at(10)), newest_first(&everyone), vec![4, 4]),
        (every_request(at(10)), newest_first(&everyone), vec![8]),
        (every_request(at(10)), newest_first(&everyone), vec![7, 1]),
        (
            StoreQuery {
                scope: Scope::RequestedBy(email("alice@example.com")),
                ..every_request(at(10))
            },
            newest_first(&alices),
            vec![4, 2],
        ),
    ];
    for (query, expected, sizes) in cases {
        let limit = sizes[0];
        let mut query = StoreQuery {
            limit: PageSize::new(u32::try_from(limit)?)?,
            ..query
        };
        let mut visited = Vec::new();
        let mut page_sizes = Vec::new();
        loop {
            let Page { items, next_cursor } = store.query(&query).await?;
            page_sizes.push(items.len());
            visited.extend(items.iter().map(|r| r.id));
            match next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
            ensure!(page_sizes.len() <= expected.len(), "pages never end");
        }
        assert_eq!(visited, expected, "limit {limit}");
        assert_eq!(page_sizes, sizes, "limit {limit}");
    }
    Ok(())
}

/// Oldest first, every scope reads its requests in creation order (ties by id) page
/// after page, with `from` and `to` as newest first: an approver's pending and decided
/// requests interleave by age, and the months of an all-requests report follow each
/// other.
pub async fn query_oldest_first_pages_in_order_in_every_scope(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let mut made = Vec::new();
    // Two months apart at the ends, so an all-requests report crosses months; three
    // made in one instant, so ties are ordered by id.
    for (minute, requester, approver) in [
        (-90_000, "alice@example.com", "bob@example.com"),
        (0, "alice@example.com", "bob@example.com"),
        (1, "carol@example.com", "bob@example.com"),
        (2, "alice@example.com", "dave@example.com"),
        (2, "alice@example.com", "bob@example.com"),
        (2, "carol@example.com", "bob@example.com"),
        (3, "alice@example.com", "bob@example.com"),
        (4, "carol@example.com", "dave@example.com"),
    ] {
        let new = new_request(requester, approver, "prod-db", at(minute));
        made.push(create(store, new).await?);
    }
    // Some of bob's are decided: his pending and decided ones still interleave by age.
    for i in [1, 4] {
        let decided = commit(store, deny(&made[i], at(5))).await?;
        made[i] = decided;
    }
    let now = at(10);
    let oldest = |q: StoreQuery| StoreQuery {
        order: ReportOrder::Oldest,
        ..q
    };
    let select = |f: &dyn Fn(&AccessRequest) -> bool| -> Vec<&AccessRequest> {
        made.iter().filter(|r| f(r)).collect()
    };
    let alice = email("alice@example.com");
    let bob = email("bob@example.com");
    let cases: Vec<(StoreQuery, Vec<RequestId>)> = vec![
        (oldest(every_request(now)), oldest_first(&select(&|_| true))),
        (
            oldest(StoreQuery {
                scope: Scope::RequestedBy(alice.clone()),
                ..every_request(now)
            }),
            oldest_first(&select(&|r| r.requester == alice)),
        ),
        (
            oldest(StoreQuery {
                scope: Scope::ApprovedBy(bob.clone()),
                ..every_request(now)
            }),
            oldest_first(&select(&|r| r.approver == bob)),
        ),
        (
            oldest(StoreQuery {
                scope: Scope::ApprovedBy(bob.clone()),
                status: Some(Status::Pending),
                ..every_request(now)
            }),
            oldest_first(&select(&|r| {
                r.approver == bob && r.status(now) == Status::Pending
            })),
        ),
        (
            oldest(StoreQuery {
                from: Some(at(1)),
                to: Some(at(4)),
                ..every_request(now)
            }),
            oldest_first(&select(&|r| r.created_at >= at(1) && r.created_at < at(4))),
        ),
    ];
    for (query, expected) in cases {
        for limit in [1, 2, 3, 500] {
            assert_eq!(
                every_page(store, query.clone(), limit).await?,
                expected,
                "limit {limit}: {query:?}"
            );
        }
        // The same selection newest first is the same list reversed.
        let newest = StoreQuery {
            order: ReportOrder::Newest,
            ..query.clone()
        };
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(every_page(store, newest, 2).await?, reversed, "{query:?}");
    }
    Ok(())
}

/// The count of a query is every request its pages list, whatever its page size,
/// order or cursor.
pub async fn count_is_every_page_whatever_the_order_or_cursor(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    for minute in 0..7 {
        let approver = if minute % 2 == 0 {
            "bob@example.com"
        } else {
            "dave@example.com"
        };
        pending(store, at(minute)).await?;
        create(
            store,
            new_request("carol@example.com", approver, "web-admin", at(minute)),
        )
        .await?;
    }
    let q = StoreQuery {
        limit: PageSize::new(2)?,
        ..every_request(at(30))
    };
    let first = store.query(&q).await?;
    assert_eq!(first.items.len(), 2);
    let second = StoreQuery {
        cursor: first.next_cursor,
        ..q.clone()
    };
    for query in [
        q.clone(),
        second,
        StoreQuery {
            order: ReportOrder::Oldest,
            ..q.clone()
        },
    ] {
        assert_eq!(store.count(&query).await?, Total::Exact(14), "{query:?}");
    }
    let carols = StoreQuery {
        requester: Some(email("carol@example.com")),
        approver: Some(email("bob@example.com")),
        ..q.clone()
    };
    assert_eq!(store.count(&carols).await?, Total::Exact(4));
    let none = StoreQuery {
        scope: Scope::RequestedBy(email("erin@example.com")),
        ..q
    };
    assert_eq!(store.count(&none).await?, Total::Exact(0));
    Ok(())
}

/// A cursor the store did not hand out is refused.
pub async fn query_rejects_a_cursor_it_did_not_make(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let store = &*store;
    for minute in 0..3 {
        pending(store, at(minute)).await?;
    }
    let first = store
        .query(&StoreQuery {
            limit: PageSize::new(1)?,
            ..every_request(at(10))
        })
        .await?;
    let real = first.next_cursor.context("a second page")?;
    for bad in ["not a cursor!", "aGVsbG8", &real[..real.len() / 2]] {
        let query = StoreQuery {
            cursor: Some(bad.to_owned()),
            ..every_request(at(10))
        };
        match store.query(&query).await {
            Err(StoreError::BadCursor) => {}
            other => panic!("cursor {bad:?}: expected BadCursor, got {other:?}"),
        }
    }
    let query = StoreQuery {
        cursor: Some(real),
        ..every_request(at(10))
    };
    assert_eq!(
        store.query(&query).await?.items.len(),
        2,
        "the real cursor works"
    );
    Ok(())
}

/// A cursor is refused by a query that selects something else (another scope, status,
/// entry or date range) and followed by the same query with another page size or
/// clock.
pub async fn query_refuses_a_cursor_from_another_query(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    for minute in 0..3 {
        pending(store, at(minute)).await?;
    }
    let query = StoreQuery {
        limit: PageSize::new(1)?,
        ..every_request(at(10))
    };
    let cursor = store
        .query(&query)
        .await?
        .next_cursor
        .context("a second page")?;
    let others = [
        StoreQuery {
            status: Some(Status::Pending),
            ..query.clone()
        },
        StoreQuery {
            scope: Scope::RequestedBy(email("alice@example.com")),
            ..query.clone()
        },
        StoreQuery {
            entry_id: Some(EntryId::parse("prod-db")?),
            ..query.clone()
        },
        StoreQuery {
            to: Some(at(10)),
            ..query.clone()
        },
        StoreQuery {
            order: ReportOrder::Oldest,
            ..query.clone()
        },
    ];
    for other in others {
        let with_cursor = StoreQuery {
            cursor: Some(cursor.clone()),
            ..other
        };
        match store.query(&with_cursor).await {
            Err(StoreError::BadCursor) => {}
            other => panic!("{with_cursor:?}: expected BadCursor, got {other:?}"),
        }
    }
    let later = StoreQuery {
        limit: PageSize::new(5)?,
        now: at(20),
        cursor: Some(cursor),
        ..query
    };
    assert_eq!(store.query(&later).await?.items.len(), 2);
    Ok(())
}

/// Someone's open requests: pending ones and approved grants not yet past their end.
pub async fn open_requests_of_are_pending_requests_and_unfinished_grants(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let now = at(100);
    let waiting = pending(store, at(90)).await?;
    let scheduled = granted(store, at(10), at(200), at(300)).await?;
    let active = granted(store, at(20), at(20), at(101)).await?;
    granted(store, at(30), at(30), at(100)).await?; // ends now
    granted(store, at(40), at(40), at(60)).await?; // ended by the clock
    let r = pending(store, at(50)).await?;
    commit(store, deny(&r, at(51))).await?;
    let r = granted(store, at(60), at(60), at(500)).await?;
    let revoke = Op::Revoke {
        by: r.requester.clone(),
        reason: message("Done"),
    };
    commit(store, change(&r, revoke, at(70))).await?;
    create(
        store,
        new_request("carol@example.com", "bob@example.com", "prod-db", at(95)),
    )
    .await?;

    let open: BTreeSet<_> = store
        .open_requests_of(&email("alice@example.com"), now)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let expected: BTreeSet<_> = [waiting.id, scheduled.id, active.id].into();
    assert_eq!(open, expected);
    assert_eq!(
        store
            .open_requests_of(&email("dave@example.com"), now)
            .await?,
        vec![]
    );
    Ok(())
}

/// Approved grants ending strictly after a time, soonest end first.
pub async fn grants_ending_after_are_approved_grants_by_end(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let t = at(150);
    let late = granted(store, at(0), at(0), at(300)).await?;
    let soon = granted(store, at(1), at(160), at(200)).await?;
    granted(store, at(2), at(2), at(150)).await?; // ends exactly at t
    granted(store, at(3), at(3), at(100)).await?; // overdue, not yet ended
    let r = granted(store, at(4), at(4), at(400)).await?;
    let revoke = Op::Revoke {
        by: r.approver.clone(),
        reason: message("Stop"),
    };
    commit(store, change(&r, revoke, at(5))).await?;
    let r = granted(store, at(6), at(6), at(70)).await?;
    commit(store, change(&r, Op::End, at(80))).await?;
    pending(store, at(7)).await?;

    assert_eq!(
        store.grants_ending_after(t).await?,
        vec![soon, late.clone()]
    );
    assert_eq!(store.grants_ending_after(at(250)).await?, vec![late]);
    assert_eq!(store.grants_ending_after(at(300)).await?, vec![]);
    Ok(())
}

/// Approved grants whose end has come (the sweep's work), soonest end first, at most
/// `limit`.
pub async fn overdue_grants_are_approved_grants_past_their_end(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let now = at(500);
    let ends_300 = granted(store, at(0), at(0), at(300)).await?;
    let ends_200 = granted(store, at(1), at(1), at(200)).await?;
    let ends_now = granted(store, at(2), at(2), at(500)).await?;
    granted(store, at(3), at(3), at(600)).await?;
    let r = granted(store, at(4), at(4), at(100)).await?;
    commit(store, change(&r, Op::End, at(110))).await?;
    pending(store, at(5)).await?;

    let all = store.overdue_grants(now, 10).await?;
    assert_eq!(ids(&all), ids([&ends_200, &ends_300, &ends_now]));
    assert_eq!(all[0], ends_200, "read back whole");
    let first_two = store.overdue_grants(now, 2).await?;
    assert_eq!(ids(&first_two), ids([&ends_200, &ends_300]));
    assert_eq!(store.overdue_grants(at(150), 10).await?, vec![]);
    Ok(())
}

/// Pending requests whose expiry has come, soonest expiry first, at most `limit`.
pub async fn stale_pending_are_pending_requests_past_their_expiry(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let expiry = DEFAULT_PENDING_EXPIRY.num_minutes();
    let now = at(200);
    let expires_100 = pending(store, at(100 - expiry)).await?;
    let expires_50 = pending(store, at(50 - expiry)).await?;
    let expires_now = pending(store, at(200 - expiry)).await?;
    pending(store, at(0)).await?;
    let r = pending(store, at(10 - expiry)).await?;
    commit(store, change(&r, Op::Expire, at(20))).await?;
    let r = pending(store, at(20 - expiry)).await?;
    commit(store, approve(&r, at(0), at(0), at(60))).await?;

    let all = store.stale_pending(now, 10).await?;
    assert_eq!(ids(&all), ids([&expires_50, &expires_100, &expires_now]));
    assert_eq!(all[0], expires_50, "read back whole");
    let first_two = store.stale_pending(now, 2).await?;
    assert_eq!(ids(&first_two), ids([&expires_50, &expires_100]));
    assert_eq!(store.stale_pending(at(40), 10).await?, vec![]);
    Ok(())
}

/// Mail is due from its next attempt on, soonest first, at most `limit`; a failed
/// attempt moves it later, or out of the due set for good.
pub async fn due_mail_is_retried_later_or_given_up(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let store = &*store;
    let first = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    let second = new_request("alice@example.com", "bob@example.com", "prod-db", at(1));
    let third = new_request("alice@example.com", "bob@example.com", "prod-db", at(2));
    let (m1, m2, m3) = (
        first.outbox[0].clone(),
        second.outbox[0].clone(),
        third.outbox[0].clone(),
    );
    for new in [third, first, second] {
        store.create_request(new).await?;
    }
    assert_eq!(m1.next_attempt_at, at(1));

    assert_eq!(store.due_mail(at(0), 10).await?, vec![]);
    assert_eq!(
        store.due_mail(at(1), 10).await?,
        vec![m1.clone()],
        "due at its time"
    );
    assert_eq!(
        store.due_mail(at(10), 2).await?,
        vec![m1.clone(), m2.clone()]
    );

    store.mail_failed(&m1.id, 1, Some(at(20))).await?;
    assert_eq!(
        store.due_mail(at(19), 10).await?,
        vec![m2.clone(), m3.clone()]
    );
    let retried = OutgoingMail {
        attempts: 1,
        next_attempt_at: at(20),
        ..m1.clone()
    };
    assert_eq!(
        store.due_mail(at(20), 10).await?,
        vec![m2.clone(), m3.clone(), retried]
    );

    store.mail_failed(&m1.id, 2, None).await?;
    assert_eq!(store.due_mail(far_future(), 10).await?, vec![m2, m3]);
    Ok(())
}

/// A delivered mail is never due again; the others stay.
pub async fn delivered_mail_leaves_the_outbox(store: Arc<dyn Store>) -> anyhow::Result<()> {
    let store = &*store;
    let first = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    let second = new_request("carol@example.com", "bob@example.com", "prod-db", at(0));
    let (m1, m2) = (first.outbox[0].clone(), second.outbox[0].clone());
    store.create_request(first).await?;
    store.create_request(second).await?;
    assert_eq!(store.due_mail(far_future(), 10).await?.len(), 2);

    store.mail_delivered(&m1.id).await?;
    assert_eq!(store.due_mail(far_future(), 10).await?, vec![m2.clone()]);
    // Delivered twice (a retried sweep) is harmless.
    store.mail_delivered(&m1.id).await?;
    assert_eq!(store.due_mail(far_future(), 10).await?, vec![m2]);
    Ok(())
}

/// A sent mail leaves the outbox and its delivery is on the timeline; sent again (a
/// retried sweep) it is still gone, and a mail sent with no event records none.
pub async fn a_sent_mail_leaves_the_outbox_with_its_event(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let first = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    let second = new_request("carol@example.com", "bob@example.com", "prod-db", at(0));
    let (m1, m2) = (first.outbox[0].clone(), second.outbox[0].clone());
    let (r1, r2) = (first.request.id, second.request.id);
    store.create_request(first).await?;
    store.create_request(second).await?;
    let before = store.events(&r1).await?.len();

    let notified = AuditEvent {
        id: ulid_at(at(1)),
        request_id: r1,
        at: at(1),
        actor: Actor::System,
        kind: EventKind::Notified,
        detail: "bob@example.com".to_owned(),
    };
    store.mail_sent(&m1.id, Some(&notified)).await?;
    assert_eq!(store.due_mail(far_future(), 10).await?, vec![m2.clone()]);
    let events = store.events(&r1).await?;
    assert_eq!(events.len(), before + 1);
    assert_eq!(events.last(), Some(&notified));

    store.mail_sent(&m2.id, None).await?;
    assert_eq!(store.due_mail(far_future(), 10).await?, vec![]);
    assert_eq!(store.events(&r2).await?.len(), before);
    Ok(())
}

/// A rotation, due at `due`, for `request`'s credential.
fn rotation(request: &AccessRequest, due: Timestamp) -> PendingRotation {
    PendingRotation {
        id: ulid_at(due),
        request_id: request.id,
        secret_ref: format!("tempaccess/{}", request.entry_id),
        attempts: 0,
        next_attempt_at: due,
    }
}

/// A grant's end is written with the rotation it calls for, in one write: a failed
/// write leaves neither, a done rotation leaves the due ones.
pub async fn a_rotation_is_written_with_the_end_that_calls_for_it(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let grant = granted(store, at(0), at(0), at(60)).await?;
    let mut end = change(&grant, Op::End, at(61));
    let due = rotation(&grant, at(62));
    end.rotations = vec![due.clone()];
    // A stale end writes nothing, the rotation included.
    let mut stale = end.clone();
    stale.expected_version = grant.version + 5;
    assert!(matches!(
        store.apply(stale).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.due_rotations(far_future(), 10).await?, vec![]);

    commit(store, end).await?;
    assert_eq!(
        store.due_rotations(at(61), 10).await?,
        vec![],
        "not yet due"
    );
    assert_eq!(store.due_rotations(at(62), 10).await?, vec![due.clone()]);
    store.rotation_done(&due.id).await?;
    store.rotation_done(&due.id).await?;
    assert_eq!(store.due_rotations(far_future(), 10).await?, vec![]);
    Ok(())
}

/// A failed rotation is due again at its next attempt; a given-up one never again.
pub async fn due_rotations_are_retried_later_or_given_up(
    store: Arc<dyn Store>,
) -> anyhow::Result<()> {
    let store = &*store;
    let mut due = Vec::new();
    for minute in [0, 1] {
        let grant = granted(store, at(minute), at(minute), at(minute + 60)).await?;
        let mut end = change(&grant, Op::End, at(minute + 61));
        let r = rotation(&grant, at(minute + 62));
        end.rotations = vec![r.clone()];
        commit(store, end).await?;
        due.push(r);
    }
    let (r1, r2) = (due[0].clone(), due[1].clone());
    assert_eq!(
        store.due_rotations(at(100), 10).await?,
        vec![r1.clone(), r2.clone()]
    );
    assert_eq!(store.due_rotations(at(100), 1).await?, vec![r1.clone()]);
    store.rotation_failed(&r1.id, 1, Some(at(120))).await?;
    assert_eq!(store.due_rotations(at(119), 10).await?, vec![r2.clone()]);
    let retried = PendingRotation {
        attempts: 1,
        next_attempt_at: at(120),
        ..r1.clone()
    };
    assert_eq!(
        store.due_rotations(at(120), 10).await?,
        vec![r2.clone(), retried]
    );
    store.rotation_failed(&r1.id, 2, None).await?;
    assert_eq!(store.due_rotations(far_future(), 10).await?, vec![r2]);
    // An attempt recorded for a rotation done meanwhile changes nothing.
    store.rotation_failed("01NOTHING", 1, Some(at(200))).await?;
    Ok(())
}

/// Randomness from the OS that remembers every 32-byte draw: the decision tokens.
#[derive(Default)]
pub struct RecordingRandom(std::sync::Mutex<Vec<[u8; 32]>>);

impl tempaccess_core::ports::Random for RecordingRandom {
    fn fill(&self, buf: &mut [u8]) {
        tempaccess_core::system::OsRandom.fill(buf);
        if let Ok(token) = <[u8; 32]>::try_from(&*buf) {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(token);
        }
    }
}

impl RecordingRandom {
    /// Every token drawn so far, as links carry them.
    pub fn tokens(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|bytes| DecisionToken::from_bytes(*bytes).expose().to_owned())
            .collect()
    }
}

/// Whatever a store holds, as text: the test of each backend reads it whole.
pub type Dump = Box<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<String>> + Send>>
        + Send
        + Sync,
>;

/// Nothing a store holds lets anyone rebuild a live decision link: after each step of
/// a whole workflow (a request, a mail that fails and is sent again with a new link, a
/// look, a decision, a cancelled and an expired request), no issued token is anywhere
/// in what the store keeps — outbox, events, tokens, requests — only hashes.
pub async fn nothing_stored_rebuilds_a_decision_link(
    store: Arc<dyn Store>,
    dump: Dump,
) -> anyhow::Result<()> {
    use tempaccess_core::service::{Decision, Ports, Service, Settings};
    use tempaccess_core::testing::{
        FlakyMailer, ManualClock, NamedSecrets, RecordingMailer, RecordingRotator,
        RecordingScheduler, caller,
    };
    for e in [
        entry("prod-db", "Production database"),
        entry("web-admin", "Web admin"),
        entry("billing", "Billing"),
    ] {
        store
            .put_entry(&Entry {
                approvers: vec![email("bob@example.com")],
                ..e
            })
            .await?;
    }
    let random = Arc::new(RecordingRandom::default());
    let clock = ManualClock::new(at(0));
    let mail = RecordingMailer::new();
    let flaky = FlakyMailer::new(mail.clone(), 1);
    let service = Service::new(
        Ports {
            store: store.clone(),
            mailer: flaky,
            scheduler: RecordingScheduler::new(),
            secrets: Arc::new(NamedSecrets),
            rotator: RecordingRotator::new(),
            clock: clock.clone(),
            random: random.clone(),
        },
        Settings::new("https://tempaccess.example.com"),
    );
    let check = |step: &'static str| {
        let random = random.clone();
        let dumped = dump();
        async move {
            let text = dumped.await?;
            let tokens = random.tokens();
            ensure!(!tokens.is_empty(), "{step}: no token issued yet");
            for token in tokens {
                ensure!(
                    !text.contains(&token),
                    "{step}: a live token is stored ({} bytes of store read)",
                    text.len()
                );
            }
            Ok::<_, anyhow::Error>(())
        }
    };
    let ask = |entry_id: &str| SubmitCommand {
        entry_id: EntryId::parse(entry_id).expect("a valid id"),
        permission_set: PermissionSetId::view_password_execute(),
        approver: email("bob@example.com"),
        requested: Requested::Duration(
            AccessDuration::from_seconds(3600, "duration_seconds").expect("a valid duration"),
        ),
        message: message("Please"),
    };
    let alice = caller("alice");
    let bob = caller("bob");

    // The first mail fails: it stays in the outbox, without its link.
    let first = service.submit(&alice, ask("prod-db"), None).await?;
    check("after a request whose mail failed").await?;
    clock.advance(TimeDelta::minutes(5));
    service.sweep().await?;
    check("after the mail went out with a new link").await?;
    let link = mail
        .sent_to("bob@example.com")
        .last()
        .and_then(|m| crate::app::decision_tokens(&m.text).into_iter().next())
        .context("the decision mail's link")?;
    let token = DecisionToken::parse(&link)?;
    service.lookup_decision(&token, Some(&bob)).await?;
    check("after a look").await?;
    service
        .decide_by_token(&token, Some(&bob), Decision::Deny, Message::default())
        .await?;
    check("after a decision").await?;
    let cancelled = service.submit(&alice, ask("web-admin"), None).await?;
    service
        .cancel(&alice, &cancelled.id, Message::default())
        .await?;
    check("after a cancellation").await?;
    service.submit(&alice, ask("billing"), None).await?;
    clock.advance(TimeDelta::days(2));
    service.sweep().await?;
    check("after an expiry").await?;
    ensure!(store.request(&first.id).await?.is_some());
    Ok(())
}
