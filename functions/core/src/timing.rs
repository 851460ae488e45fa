//! How long access lasts: a duration from approval, or a time frame.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::error::Error;

/// The shortest access: the scheduler's precision is one minute.
pub const MIN_ACCESS_SECONDS: i64 = 60;

/// The longest access any entry may allow (one year): a bound on arithmetic, not policy.
pub const MAX_ACCESS_SECONDS: i64 = 366 * 24 * 3600;

/// A duration of access, in whole seconds, between [`MIN_ACCESS_SECONDS`] and
/// [`MAX_ACCESS_SECONDS`]. Whether it fits an entry is checked by policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct AccessDuration(i64);

impl AccessDuration {
    /// Parses a number of seconds for `field`.
    pub fn from_seconds(seconds: i64, field: &str) -> Result<Self, Error> {
        if seconds < MIN_ACCESS_SECONDS {
            return Err(Error::invalid(
                field,
                format!("must be at least {MIN_ACCESS_SECONDS} seconds"),
            ));
        }
        if seconds > MAX_ACCESS_SECONDS {
            return Err(Error::invalid(
                field,
                format!("must be at most {MAX_ACCESS_SECONDS} seconds"),
            ));
        }
        Ok(Self(seconds))
    }

    /// The number of seconds.
    pub fn seconds(self) -> i64 {
        self.0
    }

    /// As a chrono delta.
    pub fn delta(self) -> TimeDelta {
        TimeDelta::seconds(self.0)
    }
}

impl TryFrom<i64> for AccessDuration {
    type Error = Error;
    fn try_from(s: i64) -> Result<Self, Error> {
        Self::from_seconds(s, "duration_seconds")
    }
}

impl From<AccessDuration> for i64 {
    fn from(d: AccessDuration) -> Self {
        d.0
    }
}

/// A custom time frame: `start < end`, at least [`MIN_ACCESS_SECONDS`] long.
/// Whether it is in the future is checked against the clock by the use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawFrame", into = "RawFrame")]
pub struct TimeFrame {
    start: Timestamp,
    end: Timestamp,
}

#[derive(Serialize, Deserialize)]
struct RawFrame {
    start: Timestamp,
    end: Timestamp,
}

impl TryFrom<RawFrame> for TimeFrame {
    type Error = Error;
    fn try_from(raw: RawFrame) -> Result<Self, Error> {
        Self::new(raw.start, raw.end)
    }
}

impl From<TimeFrame> for RawFrame {
    fn from(f: TimeFrame) -> Self {
        RawFrame {
            start: f.start,
            end: f.end,
        }
    }
}

/// The last year a time frame may reach: times are keys written as RFC 3339 text,
/// which sorts as time only with four-digit years.
pub const LAST_YEAR: i32 = 9999;

impl TimeFrame {
    /// Checks the years, the order and the length; errors name `start` or `end`
    /// (callers prefix `window.`).
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Self, Error> {
        use chrono::Datelike;
        for (field, at) in [("start", start), ("end", end)] {
            if !(0..=LAST_YEAR).contains(&at.year()) {
                return Err(Error::invalid(
                    field,
                    format!("must be in the years 0000 to {LAST_YEAR}"),
                ));
            }
        }
        if end <= start {
            return Err(Error::invalid("end", "must be after start"));
        }
        AccessDuration::from_seconds((end - start).num_seconds(), "end")?;
        Ok(Self { start, end })
    }

    /// When access may begin.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// When access ends.
    pub fn end(&self) -> Timestamp {
        self.end
    }

    /// The length of the frame.
    pub fn duration(&self) -> TimeDelta {
        self.end - self.start
    }

    /// Whether `other` lies within this frame.
    pub fn contains(&self, other: &TimeFrame) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// What a requester asks for, or an approver grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requested {
    /// A duration that starts at approval.
    Duration(AccessDuration),
    /// A custom time frame.
    Window(TimeFrame),
}

impl Requested {
    /// The length asked for.
    pub fn length(&self) -> TimeDelta {
        match self {
            Self::Duration(d) => d.delta(),
            Self::Window(w) => w.duration(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        chrono::DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn durations_are_at_least_a_minute() {
        assert!(AccessDuration::from_seconds(59, "duration_seconds").is_err());
        assert_eq!(AccessDuration::from_seconds(60, "d").unwrap().seconds(), 60);
        assert!(AccessDuration::from_seconds(MAX_ACCESS_SECONDS + 1, "d").is_err());
    }

    #[test]
    fn frames_must_end_after_they_start() {
        assert_eq!(TimeFrame::new(t(0), t(0)).unwrap_err().field(), Some("end"));
        assert_eq!(
            TimeFrame::new(t(10), t(0)).unwrap_err().field(),
            Some("end")
        );
        assert!(TimeFrame::new(t(0), t(59)).is_err());
        let f = TimeFrame::new(t(0), t(3600)).unwrap();
        assert!(f.contains(&TimeFrame::new(t(60), t(3600)).unwrap()));
        assert!(!f.contains(&TimeFrame::new(t(60), t(3601)).unwrap()));
    }

    #[test]
    fn frames_stay_within_four_digit_years() {
        let far: Timestamp = "+10000-01-01T00:00:00Z".parse().unwrap();
        let err = TimeFrame::new(far, far + TimeDelta::hours(1)).unwrap_err();
        assert_eq!(err.field(), Some("start"));
        let err = TimeFrame::new(far - TimeDelta::hours(1), far).unwrap_err();
        assert_eq!(err.field(), Some("end"));
        let json = r#"{"start":"+262142-12-31T22:59:59.5Z","end":"+262142-12-31T23:59:59.5Z"}"#;
        assert!(serde_json::from_str::<TimeFrame>(json).is_err());
    }

    #[test]
    fn frames_check_order_when_deserialized() {
        let json = r#"{"start":"2030-01-01T10:00:00Z","end":"2030-01-01T09:00:00Z"}"#;
        assert!(serde_json::from_str::<TimeFrame>(json).is_err());
    }
}
