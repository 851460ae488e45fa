//! The in-process timer that stands in for EventBridge Scheduler: it ends each grant at
//! its end, runs the periodic sweep, and is re-armed from the database on start.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tempaccess_core::Timestamp;
use tempaccess_core::ids::RequestId;
use tempaccess_core::ports::{BoxError, Scheduler};
use tempaccess_core::service::Service;
use tokio::sync::Notify;

/// Grant ends waiting to fire.
#[derive(Default)]
struct Deadlines {
    by_time: BTreeSet<(Timestamp, RequestId)>,
    by_grant: HashMap<RequestId, Timestamp>,
}

/// The timer. Shared: the service schedules through it, and [`Timer::run`] fires it.
#[derive(Default)]
pub struct Timer {
    deadlines: Mutex<Deadlines>,
    wake: Notify,
}

impl Timer {
    /// A timer with nothing scheduled.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Deadlines> {
        // A panic while holding the lock leaves plain data behind; keep going.
        self.deadlines.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, grant: RequestId, at: Timestamp) {
        let mut d = self.lock();
        if let Some(old) = d.by_grant.insert(grant, at) {
            d.by_time.remove(&(old, grant));
        }
        d.by_time.insert((at, grant));
    }

    fn take_due(&self, now: Timestamp) -> Vec<RequestId> {
        let mut d = self.lock();
        let mut due = Vec::new();
        while let Some(&(at, id)) = d.by_time.first() {
            if at > now {
                break;
            }
            d.by_time.pop_first();
            d.by_grant.remove(&id);
            due.push(id);
        }
        due
    }

    fn next(&self) -> Option<Timestamp> {
        self.lock().by_time.first().map(|(at, _)| *at)
    }

    /// How many grant ends are waiting.
    pub fn len(&self) -> usize {
        self.lock().by_time.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wakes the loop (the clock moved, or something was scheduled).
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Re-arms from the database (grants still running or scheduled) and sweeps what
    /// came due while the process was down.
    pub async fn rearm(&self, service: &Service) -> anyhow::Result<()> {
        let now = service.now();
        let report = service.sweep().await?;
        tracing::info!(?report, "swept on start");
        for grant in service.store().grants_ending_after(now).await? {
            if let Some(g) = &grant.grant {
                self.insert(grant.id, g.ends_at);
            }
        }
        tracing::info!(armed = self.len(), "timer re-armed from the database");
        Ok(())
    }

    /// Fires grant ends on time and sweeps every `sweep_every`, until the process ends.
    pub async fn run(self: Arc<Self>, service: Service, sweep_every: Duration) {
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            let now = service.now();
            for id in self.take_due(now) {
                match service.end_grant(&id).await {
                    Ok(outcome) => tracing::info!(grant_id = %id, ?outcome, "grant end fired"),
                    // The sweep ends it later; the access check already refuses it.
                    Err(e) => tracing::warn!(grant_id = %id, error = %e, "ending the grant failed"),
                }
            }
            if last_sweep.elapsed() >= sweep_every {
                last_sweep = tokio::time::Instant::now();
                if let Err(e) = service.sweep().await {
                    tracing::warn!(error = %e, "sweep failed");
                }
            }
            let until_sweep = sweep_every.saturating_sub(last_sweep.elapsed());
            let until_next = self
                .next()
                .map(|at| (at - service.now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(until_sweep);
            let wait = until_next.min(until_sweep).max(Duration::from_millis(10));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified() => {}
            }
        }
    }
}

#[async_trait]
impl Scheduler for Timer {
    async fn schedule_end(&self, grant: &RequestId, at: Timestamp) -> Result<(), BoxError> {
        self.insert(*grant, at);
        self.poke();
        Ok(())
    }

    async fn cancel_end(&self, grant: &RequestId) -> Result<(), BoxError> {
        let mut d = self.lock();
        if let Some(at) = d.by_grant.remove(grant) {
            d.by_time.remove(&(at, *grant));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fires_in_order_and_forgets_cancelled_ends() {
        let t = |s: i64| chrono::DateTime::from_timestamp(1_900_000_000 + s, 0).unwrap();
        let timer = Timer::new();
        let (a, b, c) = (
            RequestId::new(t(0), 1),
            RequestId::new(t(0), 2),
            RequestId::new(t(0), 3),
        );
        timer.schedule_end(&a, t(20)).await.unwrap();
        timer.schedule_end(&b, t(10)).await.unwrap();
        timer.schedule_end(&c, t(15)).await.unwrap();
        timer.schedule_end(&b, t(12)).await.unwrap(); // rescheduling replaces
        timer.cancel_end(&c).await.unwrap();
        assert_eq!(timer.len(), 2);
        assert_eq!(timer.next(), Some(t(12)));
        assert!(timer.take_due(t(11)).is_empty());
        assert_eq!(timer.take_due(t(30)), vec![b, a]);
        assert!(timer.is_empty());
    }
}
