//! The embedded default's clocks: the system clock, or a test clock that tests move
//! forward (kept in the data directory, so it survives a restart).

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::TimeDelta;
use tempaccess_core::Timestamp;
use tempaccess_core::ports::Clock;

/// The system time plus an offset that only grows.
#[derive(Debug)]
pub struct TestClock {
    offset_ms: AtomicI64,
    path: PathBuf,
}

impl TestClock {
    /// The clock kept in `path` (created at offset zero when missing).
    pub fn open(path: PathBuf) -> anyhow::Result<Self> {
        let offset = match std::fs::read_to_string(&path) {
            Ok(s) => s.trim().parse()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e.into()),
        };
        Ok(Self {
            offset_ms: AtomicI64::new(offset),
            path,
        })
    }

    /// Moves the clock forward and keeps the new offset.
    pub fn advance(&self, by: TimeDelta) -> anyhow::Result<Timestamp> {
        let total = self
            .offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst)
            + by.num_milliseconds();
        crate::files::write_private(&self.path, total.to_string().as_bytes())?;
        Ok(self.now())
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now() + TimeDelta::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_and_survives_a_reopen() {
        let dir = std::env::temp_dir().join(format!("tempaccess-clock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("clock");
        let _ = std::fs::remove_file(&path);
        let clock = TestClock::open(path.clone()).unwrap();
        let before = clock.now();
        clock.advance(TimeDelta::hours(2)).unwrap();
        assert!(clock.now() - before >= TimeDelta::hours(2));
        let reopened = TestClock::open(path).unwrap();
        assert!(reopened.now() - before >= TimeDelta::hours(2));
    }
}
