//! The real clock and the operating system's randomness, for the deployed functions
//! and the local binary (feature `system`; the site and the domain's tests use none).

use crate::Timestamp;
use crate::ports::{Clock, Random};

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

/// The operating system's cryptographically secure randomness.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // Without randomness no token or id is safe to issue: stop rather than go on.
        getrandom::fill(buf).expect("the operating system's random source failed");
    }
}
