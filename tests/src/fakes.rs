//! Test doubles for the ports that tests must steer: a clock they move, and mail or
//! schedules that fail on demand in front of the real adapters.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::TimeDelta;
use tempaccess_core::Timestamp;
use tempaccess_core::ids::RequestId;
use tempaccess_core::ports::{BoxError, Clock, Mail, MailError, Mailer, Scheduler};

/// A clock that stands still until moved.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock at the current system time, rounded to the second.
    pub fn new() -> Arc<Self> {
        let now = chrono::Utc::now();
        let now = chrono::DateTime::from_timestamp(now.timestamp(), 0).expect("valid time");
        Arc::new(Self(Mutex::new(now)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: TimeDelta) {
        *self.0.lock().expect("clock lock") += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock lock")
    }
}

/// A mailer that fails (retryably) the next `n` sends, then hands over to the real one.
pub struct FlakyMailer {
    /// The real mailer.
    pub inner: Arc<dyn Mailer>,
    /// Sends still to fail.
    pub failures_left: AtomicU32,
}

#[async_trait]
impl Mailer for FlakyMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let left = self.failures_left.load(Ordering::SeqCst);
        if left > 0 {
            self.failures_left.store(left - 1, Ordering::SeqCst);
            return Err(MailError::Retryable(
                "the mail service is unreachable".into(),
            ));
        }
        self.inner.send(mail).await
    }
}

/// A scheduler whose every call fails, as when the scheduler service is down.
pub struct DownScheduler;

#[async_trait]
impl Scheduler for DownScheduler {
    async fn schedule_end(&self, _: &RequestId, _: Timestamp) -> Result<(), BoxError> {
        Err("the scheduler is unreachable".into())
    }

    async fn cancel_end(&self, _: &RequestId) -> Result<(), BoxError> {
        Err("the scheduler is unreachable".into())
    }
}
