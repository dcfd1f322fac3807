//! Working hours in the region's time zone: a mailbox that is quiet at night or at the weekend is
//! not a fault, one quiet for a working morning is.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};
use time::OffsetDateTime;

use crate::config::AlertsConfig;

#[derive(Debug, Clone)]
pub struct Schedule {
    tz: TimeZone,
    open: Time,
    close: Time,
    /// Monday first.
    days: [bool; 7],
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Quiet spells longer than this are counted only this far back (and the loop stays short).
const MAX_DAYS: i32 = 60;

impl Schedule {
    /// From `[alerts]`; the problems are the configuration's to report.
    pub fn new(cfg: &AlertsConfig) -> Result<Schedule, Vec<String>> {
        let mut problems = Vec::new();
        let tz = TimeZone::get(&cfg.timezone)
            .map_err(|e| problems.push(format!("alerts.timezone: {:?} is not a known time zone ({e})", cfg.timezone)))
            .ok();
        let hours = cfg.working_hours.split_once('-').and_then(|(a, b)| Some((time_of(a)?, time_of(b)?)));
        let (open, close) = match hours {
            Some((a, b)) if a < b => (a, b),
            _ => {
                problems
                    .push(format!("alerts.working_hours: {:?} should look like \"07:30-16:00\"", cfg.working_hours));
                (Time::midnight(), Time::midnight())
            }
        };
        let mut days = [false; 7];
        for d in &cfg.working_days {
            match DAY_NAMES.iter().position(|n| n.eq_ignore_ascii_case(d.trim())) {
                Some(i) => days[i] = true,
                None => problems.push(format!("alerts.working_days: {d:?} is not one of {}", DAY_NAMES.join(", "))),
            }
        }
        match tz {
            Some(tz) if problems.is_empty() => Ok(Schedule { tz, open, close, days }),
            _ => Err(problems),
        }
    }

    fn zoned(&self, at: OffsetDateTime) -> Option<ZonedDateTime> {
        Some(Timestamp::from_second(at.unix_timestamp()).ok()?.to_zoned_datetime(self.tz.clone()))
    }

    fn is_working_day(&self, date: Date) -> bool {
        self.days[usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0)]
    }

    /// Whether `at` falls in working hours.
    pub fn is_working(&self, at: OffsetDateTime) -> bool {
        self.zoned(at).is_some_and(|z| self.is_working_day(z.date()) && z.time() >= self.open && z.time() < self.close)
    }

    /// The working hours between two instants (at most the last `MAX_DAYS` days of them).
    pub fn working_hours_between(&self, from: OffsetDateTime, to: OffsetDateTime) -> f64 {
        let (Some(a), Some(b)) = (self.zoned(from), self.zoned(to)) else { return 0.0 };
        let (first, mut day) = (a.date(), b.date());
        let (a, b) = (a.timestamp().as_second(), b.timestamp().as_second());
        let mut seconds = 0i64;
        for _ in 0..MAX_DAYS {
            if day < first {
                break;
            }
            if self.is_working_day(day) {
                let edge = |t: Time| day.to_datetime(t).to_zoned_datetime(self.tz.clone()).ok();
                if let (Some(open), Some(close)) = (edge(self.open), edge(self.close)) {
                    let (open, close) = (open.timestamp().as_second(), close.timestamp().as_second());
                    seconds += (close.min(b) - open.max(a)).max(0);
                }
            }
            match day.yesterday() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        seconds as f64 / 3600.0
    }
}

fn time_of(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}
