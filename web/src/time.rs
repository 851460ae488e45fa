//! Times for people: shown in the browser's time zone with the zone named, entered in
//! it (`<input type="datetime-local">`), and sent to the API in UTC.
//!
//! The conversions take a [`Zone`], so they are tested with made-up zones on the host
//! and against the browser's own rules in headless Chromium.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc};

/// A time zone: its offset from UTC at an instant.
pub trait Zone {
    /// Minutes east of UTC at `at` (New York in winter: -300).
    fn offset_minutes(&self, at: DateTime<Utc>) -> i32;

    /// A short name for the zone at `at`, for example "EST" or "UTC+05:30".
    fn abbreviation(&self, at: DateTime<Utc>) -> String {
        offset_label(self.offset_minutes(at))
    }
}

/// How the site names a zone: "America/New_York (EST, UTC-05:00)", without saying a
/// thing twice ("UTC" alone for UTC).
pub fn zone_label(name: &str, abbreviation: &str, offset: &str) -> String {
    let mut extra: Vec<&str> = Vec::new();
    for part in [abbreviation, offset] {
        if part != name && !extra.contains(&part) {
            extra.push(part);
        }
    }
    if extra.is_empty() {
        name.to_owned()
    } else {
        format!("{name} ({})", extra.join(", "))
    }
}

/// `UTC`, `UTC+01:00`, `UTC-05:30`.
pub fn offset_label(minutes: i32) -> String {
    if minutes == 0 {
        return "UTC".to_owned();
    }
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// The wall-clock time in `zone` at `at`.
/// Saturates at the ends of time rather than overflow: no instant the server sends can
/// stop a page.
pub fn to_local(at: DateTime<Utc>, zone: &dyn Zone) -> NaiveDateTime {
    at.checked_add_signed(TimeDelta::minutes(i64::from(zone.offset_minutes(at))))
        .unwrap_or(at)
        .naive_utc()
}

/// The instant a wall-clock time in `zone` names. A time skipped by a change to
/// summer time is read with the offset before the change (02:30 becomes 03:30), and
/// a time that happens twice is the earlier one — as browsers read them.
pub fn from_local(local: NaiveDateTime, zone: &dyn Zone) -> DateTime<Utc> {
    let as_utc = local.and_utc();
    // Any change of offset near `local` lies within a day of it.
    let shift = |d: TimeDelta| as_utc.checked_add_signed(d).unwrap_or(as_utc);
    let before = zone.offset_minutes(shift(-TimeDelta::days(1)));
    let after = zone.offset_minutes(shift(TimeDelta::days(1)));
    let at = |offset: i32| shift(-TimeDelta::minutes(i64::from(offset)));
    let fits = |offset: i32| zone.offset_minutes(at(offset)) == offset;
    match (fits(before), fits(after)) {
        (true, true) => at(before).min(at(after)),
        (true, false) => at(before),
        (false, true) => at(after),
        (false, false) => at(before),
    }
}

/// Reads a `datetime-local` value (with or without seconds), or a date and a typed
/// time of day joined by [`join_input`] ("9:30", "0930" and "09.30" read as 09:30).
pub fn parse_input(value: &str) -> Option<NaiveDateTime> {
    let value = value.trim();
    let (date, clock) = split_input(value);
    let date = parse_date(date)?;
    input_clock(clock)
        .or_else(|| parse_clock(clock))
        .map(|clock| date.and_time(clock))
}

/// The time of a `datetime-local` value: `09:30` or `09:30:15`.
fn input_clock(text: &str) -> Option<NaiveTime> {
    let mut scan = Scan(text);
    let (h, m) = (
        scan.number(2)?,
        scan.literal(':').and_then(|()| scan.number(2))?,
    );
    let s = match scan.0 {
        "" => 0,
        _ => scan.literal(':').and_then(|()| scan.number(2))?,
    };
    scan.end()?;
    let (h, m, s) = (
        u32::try_from(h).ok()?,
        u32::try_from(m).ok()?,
        u32::try_from(s).ok()?,
    );
    match s {
        // A leap second, as chrono writes one.
        60 => NaiveTime::from_hms_nano_opt(h, m, 59, 1_000_000_000),
        _ => NaiveTime::from_hms_opt(h, m, s),
    }
}

/// A `date` input's value: `2030-01-15`.
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    let mut scan = Scan(value.trim());
    let year = scan.year()?;
    scan.literal('-')?;
    let month = scan.number(2)?;
    scan.literal('-')?;
    let day = scan.number(2)?;
    scan.end()?;
    NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )
}

/// Reads dates and times field by field as chrono's `%Y-%m-%dT%H:%M` does (blanks
/// before a number allowed, at most its width of digits, a year's sign), without
/// its format-string machinery in the wasm.
struct Scan<'a>(&'a str);

impl Scan<'_> {
    /// One to `width` digits.
    fn number(&mut self, width: usize) -> Option<i64> {
        self.0 = self.0.trim_start();
        let digits = self
            .0
            .bytes()
            .take(width)
            .take_while(u8::is_ascii_digit)
            .count();
        if digits == 0 {
            return None;
        }
        let (number, rest) = self.0.split_at(digits);
        self.0 = rest;
        number.bytes().try_fold(0i64, |n, d| {
            n.checked_mul(10)?.checked_add(i64::from(d - b'0'))
        })
    }

    /// A year: four digits, or a sign and any number of them.
    fn year(&mut self) -> Option<i64> {
        self.0 = self.0.trim_start();
        if let Some(rest) = self.0.strip_prefix('-') {
            self.0 = rest;
            self.number(usize::MAX).and_then(i64::checked_neg)
        } else if let Some(rest) = self.0.strip_prefix('+') {
            self.0 = rest;
            self.number(usize::MAX)
        } else {
            self.number(4)
        }
    }

    fn literal(&mut self, c: char) -> Option<()> {
        self.0 = self.0.strip_prefix(c)?;
        Some(())
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

/// A time of day typed on a 24-hour clock: "09:30", "9:30", "0930", "09.30".
pub fn parse_clock(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    let (h, m) = match text.split_once([':', '.', 'h']) {
        Some((h, m)) => (h, m),
        None if text.len() == 4 || text.len() == 3 => text.split_at(text.len() - 2),
        None => return None,
    };
    if m.trim().len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
    NaiveTime::from_hms_opt(h, m, 0)
}

/// The date and the time of day of an input value, as typed.
pub fn split_input(value: &str) -> (&str, &str) {
    value.split_once('T').unwrap_or((value, ""))
}

/// A date and a typed time of day as one input value.
pub fn join_input(date: &str, clock: &str) -> String {
    format!("{}T{}", date.trim(), clock.trim())
}

/// The instant a `datetime-local` value names in `zone`.
pub fn input_to_utc(value: &str, zone: &dyn Zone) -> Option<DateTime<Utc>> {
    parse_input(value).map(|local| from_local(local, zone))
}

/// The `datetime-local` value for `at` in `zone`: `2030-01-15T09:30`.
pub fn input_value(at: DateTime<Utc>, zone: &dyn Zone) -> String {
    let local = to_local(at, zone);
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}",
        year(local.year()),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// A year as chrono's `%Y` writes it: four digits, or a sign beyond them.
fn year(year: i32) -> String {
    if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{year:+05}")
    }
}

/// The instant a `date` input's day begins in `zone`.
pub fn day_start(value: &str, zone: &dyn Zone) -> Option<DateTime<Utc>> {
    let day = parse_date(value)?;
    Some(from_local(day.and_hms_opt(0, 0, 0)?, zone))
}

/// The instant after a `date` input's day ends in `zone` (the next day's start).
pub fn day_end(value: &str, zone: &dyn Zone) -> Option<DateTime<Utc>> {
    let day = parse_date(value)?;
    Some(from_local(day.succ_opt()?.and_hms_opt(0, 0, 0)?, zone))
}

/// "Thu 26 Nov 2026, 14:05 EST": the time in `zone`, with the zone named.
pub fn format(at: DateTime<Utc>, zone: &dyn Zone) -> String {
    format!(
        "{} {}",
        wall_clock(to_local(at, zone)),
        zone.abbreviation(at)
    )
}

/// "Thu 26 Nov 2026, 14:05": a wall-clock time as the site writes it.
pub fn wall_clock(local: NaiveDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {} {}, {:02}:{:02}",
        DAYS[local.weekday().num_days_from_monday() as usize],
        local.day(),
        MONTHS[local.month0() as usize],
        year(local.year()),
        local.hour(),
        local.minute()
    )
}

/// `at` as the API writes it (RFC 3339, UTC, whole seconds).
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// "1 h 30 min", as the API's mails and reports say it.
pub fn describe_seconds(seconds: i64) -> String {
    tempaccess_core::entry::describe_seconds(seconds)
}

/// The browser's time zone, read through JavaScript's `Date` and `Intl`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BrowserZone;

impl BrowserZone {
    /// The zone's IANA name ("America/New_York"), or its offset if the browser has none.
    pub fn name(&self) -> String {
        let format =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| offset_label(self.offset_minutes(now())))
    }
}

fn js_date(at: DateTime<Utc>) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ))
}

impl Zone for BrowserZone {
    fn offset_minutes(&self, at: DateTime<Utc>) -> i32 {
        // getTimezoneOffset counts minutes west of UTC.
        -(js_date(at).get_timezone_offset() as i32)
    }

    fn abbreviation(&self, at: DateTime<Utc>) -> String {
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"timeZoneName".into(), &"short".into());
        let locales = js_sys::Array::of1(&"en-US".into());
        let format = js_sys::Intl::DateTimeFormat::new(&locales, &options);
        let parts = format.format_to_parts(&js_date(at));
        parts
            .iter()
            .find(|part| {
                js_sys::Reflect::get(part, &"type".into())
                    .ok()
                    .and_then(|t| t.as_string())
                    .as_deref()
                    == Some("timeZoneName")
            })
            .and_then(|part| js_sys::Reflect::get(&part, &"value".into()).ok())
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| offset_label(self.offset_minutes(at)))
    }
}

thread_local! {
    /// How far the server's clock is ahead of the browser's, in milliseconds, as its
    /// last answer said (its `Date` header).
    static SERVER_OFFSET_MS: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Notes the server's clock from an answer's `Date` header ("Wed, 02 Dec 2026
/// 16:41:07 GMT"), so that countdowns and statuses follow the server's time even when
/// the browser's clock is off.
pub fn note_server_date(header: &str) {
    // The browser reads the header's date (NaN when it cannot).
    let server = js_sys::Date::parse(header.trim());
    if server.is_finite() {
        let browser = js_sys::Date::now() as i64;
        // The header has whole seconds: half a second is the best guess of the rest.
        let offset = server as i64 + 500 - browser;
        let before = SERVER_OFFSET_MS.with(|o| o.replace(offset));
        // A jump (a clock put right, or moved by a test) is told at once, so that
        // countdowns read it now rather than at their next tick.
        if (offset - before).abs() > 2_000
            && let (Some(w), Ok(e)) = (web_sys::window(), web_sys::Event::new(CLOCK_EVENT))
        {
            let _ = w.dispatch_event(&e);
        }
    }
}

/// The event sent when the server's clock, as the site reads it, jumps.
pub const CLOCK_EVENT: &str = "tempaccess:clock";

/// The time now on the server's clock, as far as the browser can tell (its own clock
/// until the server has answered once).
pub fn now() -> DateTime<Utc> {
    let offset = SERVER_OFFSET_MS.with(std::cell::Cell::get);
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64 + offset).unwrap_or_default()
}

/// "47 min left", "2 h 5 min left", "under a minute left": what is left of a grant
/// ending at `end`, at `now`, for people; `None` once it has ended.
pub fn time_left(end: DateTime<Utc>, now: DateTime<Utc>) -> Option<String> {
    let left = (end - now).num_seconds();
    if left <= 0 {
        return None;
    }
    if left < 60 {
        return Some("under a minute left".to_owned());
    }
    // Whole minutes, rounded up: "1 min left" until the very end.
    let minutes = (left + 59) / 60;
    Some(format!("{} left", describe_seconds(minutes * 60)))
}

/// "in 3 h", "in 12 min": how long until `at`, for people.
pub fn time_until(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    if seconds < 60 {
        return "in under a minute".to_owned();
    }
    format!("in {}", describe_seconds((seconds + 59) / 60 * 60))
}

/// "3 h ago", "12 min ago", "just now": how long ago `at` was, for people.
pub fn time_ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    if seconds < 60 {
        return "just now".to_owned();
    }
    let minutes = seconds / 60;
    let rounded = match minutes {
        m if m < 60 => m * 60,
        m if m < 24 * 60 => m / 60 * 3600,
        m => m / (24 * 60) * 24 * 3600,
    };
    format!("{} ago", describe_seconds(rounded))
}

/// How soon before its end a grant warns: the last five minutes.
pub const WARN_BEFORE_END_SECONDS: i64 = 5 * 60;

/// Whether a grant ending at `end` is within its last minutes at `now`.
pub fn ends_soon(end: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let left = (end - now).num_seconds();
    left > 0 && left <= WARN_BEFORE_END_SECONDS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// New York in 2030: EST (-5 h) until 10 March 07:00 UTC, then EDT (-4 h) until
    /// 3 November 06:00 UTC.
    struct NewYork2030;

    impl Zone for NewYork2030 {
        fn offset_minutes(&self, at: DateTime<Utc>) -> i32 {
            let spring = utc("2030-03-10T07:00:00Z");
            let autumn = utc("2030-11-03T06:00:00Z");
            if at >= spring && at < autumn {
                -240
            } else {
                -300
            }
        }
    }

    struct Fixed(i32);

    impl Zone for Fixed {
        fn offset_minutes(&self, _: DateTime<Utc>) -> i32 {
            self.0
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn local_inputs_become_utc() {
        assert_eq!(
            input_to_utc("2030-01-15T09:30", &NewYork2030),
            Some(utc("2030-01-15T14:30:00Z"))
        );
        assert_eq!(
            input_to_utc("2030-07-15T09:30", &NewYork2030),
            Some(utc("2030-07-15T13:30:00Z"))
        );
        assert_eq!(
            input_to_utc("2030-07-15T09:30:00", &Fixed(330)),
            Some(utc("2030-07-15T04:00:00Z"))
        );
        assert_eq!(input_to_utc("", &Fixed(0)), None);
        assert_eq!(input_to_utc("tomorrow", &Fixed(0)), None);
    }

    #[test]
    fn typed_times_of_day_read_on_a_24_hour_clock() {
        for typed in ["09:30", "9:30", "0930", "930", "09.30"] {
            assert_eq!(
                input_to_utc(&join_input("2030-01-15", typed), &Fixed(0)),
                Some(utc("2030-01-15T09:30:00Z")),
                "{typed}"
            );
        }
        assert_eq!(
            input_to_utc(&join_input("2030-01-15", "21:05"), &Fixed(0)),
            Some(utc("2030-01-15T21:05:00Z"))
        );
        for wrong in ["25:00", "9:75", "9 pm", "", "12:3045"] {
            assert_eq!(
                input_to_utc(&join_input("2030-01-15", wrong), &Fixed(0)),
                None,
                "{wrong}"
            );
        }
        assert_eq!(split_input("2030-01-15T9:3"), ("2030-01-15", "9:3"));
        assert_eq!(split_input(""), ("", ""));
    }

    #[test]
    fn skipped_and_repeated_hours_read_as_browsers_do() {
        // 02:30 does not exist on 10 March: it is 03:30 EDT.
        assert_eq!(
            input_to_utc("2030-03-10T02:30", &NewYork2030),
            Some(utc("2030-03-10T07:30:00Z"))
        );
        // 01:30 happens twice on 3 November: the first one, EDT.
        assert_eq!(
            input_to_utc("2030-11-03T01:30", &NewYork2030),
            Some(utc("2030-11-03T05:30:00Z"))
        );
    }

    #[test]
    fn utc_round_trips_through_the_input() {
        let at = utc("2030-07-15T13:30:00Z");
        assert_eq!(input_value(at, &NewYork2030), "2030-07-15T09:30");
        assert_eq!(
            input_to_utc(&input_value(at, &NewYork2030), &NewYork2030),
            Some(at)
        );
    }

    #[test]
    fn days_cover_the_local_day() {
        assert_eq!(
            day_start("2030-01-15", &NewYork2030),
            Some(utc("2030-01-15T05:00:00Z"))
        );
        assert_eq!(
            day_end("2030-01-15", &NewYork2030),
            Some(utc("2030-01-16T05:00:00Z"))
        );
        assert_eq!(day_start("15/01/2030", &NewYork2030), None);
    }

    #[test]
    fn zones_are_named_once() {
        assert_eq!(zone_label("UTC", "UTC", "UTC"), "UTC");
        assert_eq!(
            zone_label("America/New_York", "EST", "UTC-05:00"),
            "America/New_York (EST, UTC-05:00)"
        );
        assert_eq!(
            zone_label("Asia/Kolkata", "UTC+05:30", "UTC+05:30"),
            "Asia/Kolkata (UTC+05:30)"
        );
    }

    #[test]
    fn what_is_left_and_how_long_ago_read_as_people_say_it() {
        let now = utc("2030-01-15T14:30:00Z");
        let later = |s: i64| now + TimeDelta::seconds(s);
        assert_eq!(
            time_left(later(47 * 60), now).as_deref(),
            Some("47 min left")
        );
        assert_eq!(
            time_left(later(46 * 60 + 1), now).as_deref(),
            Some("47 min left")
        );
        assert_eq!(
            time_left(later(30), now).as_deref(),
            Some("under a minute left")
        );
        assert_eq!(
            time_left(later(3 * 3600 + 300), now).as_deref(),
            Some("3 h 5 min left")
        );
        assert_eq!(time_left(later(0), now), None);
        assert!(ends_soon(later(300), now) && !ends_soon(later(301), now));
        assert!(!ends_soon(later(0), now));
        assert_eq!(time_ago(later(-10), now), "just now");
        assert_eq!(time_ago(later(-5 * 60), now), "5 min ago");
        assert_eq!(time_ago(later(-(3 * 3600 + 1200)), now), "3 h ago");
        assert_eq!(time_until(later(12 * 60), now), "in 12 min");
    }

    #[test]
    fn formats_name_the_zone() {
        let at = utc("2030-01-15T14:30:00Z");
        assert_eq!(format(at, &NewYork2030), "Tue 15 Jan 2030, 09:30 UTC-05:00");
        assert_eq!(format(at, &Fixed(0)), "Tue 15 Jan 2030, 14:30 UTC");
        assert_eq!(offset_label(330), "UTC+05:30");
    }

    /// The site's own reading and writing of dates agree with chrono's format strings,
    /// which it used before (and which the wasm no longer carries).
    #[test]
    fn dates_read_and_write_as_chrono_formats_do() {
        for value in [
            "2030-01-15T09:30",
            "2030-01-15T09:30:15",
            "2030-01-15T09:30:60",
            "2030-1-5T9:3",
            "2030- 01-15T 09:30",
            "+12030-01-15T09:30",
            "-0044-03-15T12:00",
            "2030-02-30T09:30",
            "2030-01-15T24:00",
            "2030-01-15T09:30:",
            "2030-01-15T09:305",
            "20300-01-15T09:30",
            "2030-01-15T09:30Z",
            "2030-01-15T0930",
            "2030-01-15T9.30",
            "2030-01-15",
            "",
        ] {
            // As the site read them with chrono: a whole input value, else a date and a
            // typed time of day.
            let chrono = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
                .ok()
                .or_else(|| {
                    let (date, clock) = split_input(value);
                    let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
                    Some(date.and_time(parse_clock(clock)?))
                });
            assert_eq!(parse_input(value), chrono, "{value}");
        }
        for value in [
            "2030-01-15",
            " 2030-1-5 ",
            "2030-13-01",
            "2030-02-29",
            "2028-02-29",
            "-0001-12-31",
            "+10000-01-01",
            "99999999999999999999-01-01",
            "2030-01-15x",
            "2030/01/15",
            "15/01/2030",
            "",
        ] {
            assert_eq!(
                parse_date(value),
                NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok(),
                "{value}"
            );
        }
        for at in [
            utc("2030-01-15T09:07:00Z"),
            utc("2026-11-26T14:05:59Z"),
            utc("0001-03-04T00:00:00Z"),
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::MIN_UTC,
        ] {
            let local = at.naive_utc();
            assert_eq!(
                wall_clock(local),
                local.format("%a %-d %b %Y, %H:%M").to_string()
            );
            assert_eq!(
                input_value(at, &Fixed(0)),
                local.format("%Y-%m-%dT%H:%M").to_string()
            );
        }
    }

    #[test]
    fn the_ends_of_time_never_stop_a_page() {
        for at in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
            for zone in [Fixed(330), Fixed(-600), Fixed(0)] {
                let _ = format(at, &zone);
                let _ = input_value(at, &zone);
                let _ = from_local(at.naive_utc(), &zone);
            }
        }
    }

    /// Berlin in 2030, as the tz database has it: CET (+1 h) until 31 March 01:00 UTC,
    /// then CEST (+2 h) until 27 October 01:00 UTC.
    struct Berlin2030;

    impl Zone for Berlin2030 {
        fn offset_minutes(&self, at: DateTime<Utc>) -> i32 {
            let spring = utc("2030-03-31T01:00:00Z");
            let autumn = utc("2030-10-27T01:00:00Z");
            if at >= spring && at < autumn { 120 } else { 60 }
        }
    }

    /// Pacific/Kiritimati (UTC+14 all year) and Pacific/Pago_Pago (UTC-11 all year).
    const KIRITIMATI: Fixed = Fixed(14 * 60);
    const PAGO_PAGO: Fixed = Fixed(-11 * 60);

    fn local(s: &str) -> NaiveDateTime {
        parse_input(s).unwrap()
    }

    /// The zones with their changes of 2030 (none for the fixed ones), and the days
    /// the checks below walk minute by minute.
    fn zones() -> Vec<(&'static str, Box<dyn Zone>, Vec<&'static str>)> {
        vec![
            (
                "Europe/Berlin",
                Box::new(Berlin2030),
                vec!["2030-03-31", "2030-10-27"],
            ),
            (
                "America/New_York",
                Box::new(NewYork2030),
                vec!["2030-03-10", "2030-11-03"],
            ),
            (
                "Pacific/Kiritimati",
                Box::new(KIRITIMATI),
                vec!["2029-12-31", "2030-01-01"],
            ),
            (
                "Pacific/Pago_Pago",
                Box::new(PAGO_PAGO),
                vec!["2029-12-31", "2030-01-01"],
            ),
        ]
    }

    /// Every UTC instant (each minute of two days around each change) shown in the
    /// zone and read back from the field is the same instant; except in the hour a
    /// change to winter time repeats, whose second pass reads back as the first (the
    /// field holds a wall-clock time, and an ambiguous one is the earlier instant).
    #[test]
    fn every_instant_round_trips_through_the_field_in_every_zone() {
        for (name, zone, days) in zones() {
            for day in days {
                let from = utc(&format!("{day}T00:00:00Z")) - TimeDelta::hours(24);
                for minute in 0..(3 * 24 * 60) {
                    let at = from + TimeDelta::minutes(minute);
                    let back = input_to_utc(&input_value(at, &*zone), &*zone).unwrap();
                    // The second pass of a repeated hour: an hour ago the offset
                    // was larger.
                    let repeated =
                        zone.offset_minutes(at - TimeDelta::hours(1)) > zone.offset_minutes(at);
                    if back != at {
                        assert!(repeated, "{name}: {at} read back as {back}");
                        assert_eq!(back, at - TimeDelta::hours(1), "{name}: {at}");
                    }
                }
            }
        }
    }

    /// Every wall-clock time (each minute of the days around each change) read as an
    /// instant shows as itself again, but for the times a change to summer time skips:
    /// they read with the offset before the change, an hour later on the clock.
    #[test]
    fn every_wall_clock_time_reads_as_an_instant_that_shows_it_again() {
        for (name, zone, days) in zones() {
            for day in days {
                let from = local(&format!("{day}T00:00")) - TimeDelta::hours(24);
                for minute in 0..(3 * 24 * 60) {
                    let wall = from + TimeDelta::minutes(minute);
                    let at = from_local(wall, &*zone);
                    let shown = to_local(at, &*zone);
                    if shown != wall {
                        assert_eq!(shown, wall + TimeDelta::hours(1), "{name}: {wall}");
                        // Skipped: no instant shows it.
                        let offsets = [
                            zone.offset_minutes(at - TimeDelta::hours(2)),
                            zone.offset_minutes(at + TimeDelta::hours(2)),
                        ];
                        assert!(
                            offsets.iter().all(|o| {
                                let candidate = wall.and_utc() - TimeDelta::minutes(i64::from(*o));
                                to_local(candidate, &*zone) != wall
                            }),
                            "{name}: {wall} exists but read as {at}"
                        );
                    }
                }
            }
        }
    }

    /// A custom time frame entered across a change, as the request form sends it.
    #[test]
    fn time_frames_across_changes_and_far_from_utc_are_the_instants_meant() {
        let frame = |start: &str, end: &str, zone: &dyn Zone| {
            (
                input_to_utc(start, zone).unwrap(),
                input_to_utc(end, zone).unwrap(),
            )
        };
        // Berlin, spring: 01:30 to 03:30 on the clock is one hour (02:00-03:00 is
        // skipped).
        let (s, e) = frame("2030-03-31T01:30", "2030-03-31T03:30", &Berlin2030);
        assert_eq!(
            (s, e),
            (utc("2030-03-31T00:30:00Z"), utc("2030-03-31T01:30:00Z"))
        );
        // A skipped time reads an hour later: 02:30 is 03:30 CEST.
        assert_eq!(
            input_to_utc("2030-03-31T02:30", &Berlin2030),
            Some(utc("2030-03-31T01:30:00Z"))
        );
        // Berlin, autumn: 01:30 to 03:30 is three hours (02:00-03:00 happens twice);
        // 02:30 is the first one, CEST.
        let (s, e) = frame("2030-10-27T01:30", "2030-10-27T03:30", &Berlin2030);
        assert_eq!(
            (s, e),
            (utc("2030-10-26T23:30:00Z"), utc("2030-10-27T02:30:00Z"))
        );
        assert_eq!(
            input_to_utc("2030-10-27T02:30", &Berlin2030),
            Some(utc("2030-10-27T00:30:00Z"))
        );
        // New York, spring and autumn.
        let (s, e) = frame("2030-03-10T01:00", "2030-03-10T04:00", &NewYork2030);
        assert_eq!(e - s, TimeDelta::hours(2));
        let (s, e) = frame("2030-11-03T00:00", "2030-11-03T03:00", &NewYork2030);
        assert_eq!(e - s, TimeDelta::hours(4));
        // Kiritimati is a day ahead of UTC for ten hours of it; Pago Pago eleven hours
        // behind.
        let (s, e) = frame("2030-01-01T00:30", "2030-01-01T09:30", &KIRITIMATI);
        assert_eq!(
            (s, e),
            (utc("2029-12-31T10:30:00Z"), utc("2029-12-31T19:30:00Z"))
        );
        let (s, e) = frame("2029-12-31T23:30", "2030-01-01T00:30", &PAGO_PAGO);
        assert_eq!(
            (s, e),
            (utc("2030-01-01T10:30:00Z"), utc("2030-01-01T11:30:00Z"))
        );
        // And back into the fields as entered.
        assert_eq!(input_value(s, &PAGO_PAGO), "2029-12-31T23:30");
        assert_eq!(
            input_value(utc("2029-12-31T10:30:00Z"), &KIRITIMATI),
            "2030-01-01T00:30"
        );
        // The same instant is a different day in each: a report's day filter covers
        // the local day.
        assert_eq!(
            day_start("2030-01-01", &KIRITIMATI),
            Some(utc("2029-12-31T10:00:00Z"))
        );
        assert_eq!(
            day_end("2029-12-31", &PAGO_PAGO),
            Some(utc("2030-01-01T11:00:00Z"))
        );
        // The day of a change lasts 23 or 25 hours.
        let day = |d: &str, z: &dyn Zone| day_end(d, z).unwrap() - day_start(d, z).unwrap();
        assert_eq!(day("2030-03-31", &Berlin2030), TimeDelta::hours(23));
        assert_eq!(day("2030-10-27", &Berlin2030), TimeDelta::hours(25));
    }
}
