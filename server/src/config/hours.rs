//! Business hours: when people staff a site's chat. Outside them a visitor who asks for a
//! person is told so at once and offered to leave a message.
//!
//! ```toml
//! [handoff.hours]
//! timezone = "Europe/Berlin"
//! mon = "09:00-17:30"
//! sat = "10:00-13:00, 14:00-16:00"
//! # a day not written is closed
//! ```

use chrono::{DateTime, Datelike, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursConfig {
    /// An IANA time zone name, e.g. `America/New_York`.
    pub timezone: String,
    #[serde(default)]
    pub mon: String,
    #[serde(default)]
    pub tue: String,
    #[serde(default)]
    pub wed: String,
    #[serde(default)]
    pub thu: String,
    #[serde(default)]
    pub fri: String,
    #[serde(default)]
    pub sat: String,
    #[serde(default)]
    pub sun: String,
}

/// Parsed, validated hours.
#[derive(Debug, Clone)]
pub struct Hours {
    zone: Tz,
    /// Monday first; each day's open ranges, `[start, end)`.
    days: [Vec<(NaiveTime, NaiveTime)>; 7],
}

impl Hours {
    pub fn parse(config: &HoursConfig) -> Result<Hours, String> {
        let zone: Tz = config.timezone.parse().map_err(|_| format!("unknown time zone {:?}", config.timezone))?;
        let texts = [&config.mon, &config.tue, &config.wed, &config.thu, &config.fri, &config.sat, &config.sun];
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let mut days: [Vec<(NaiveTime, NaiveTime)>; 7] = Default::default();
        for (i, text) in texts.iter().enumerate() {
            days[i] = parse_ranges(text).map_err(|why| format!("{}: {why}", names[i]))?;
        }
        Ok(Hours { zone, days })
    }

    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.zone);
        let day = local.weekday().num_days_from_monday() as usize;
        let time = NaiveTime::from_hms_opt(local.hour(), local.minute(), local.second()).unwrap_or_default();
        self.days[day].iter().any(|(start, end)| *start <= time && time < *end)
    }

    /// The day names (Monday first) for error messages and docs.
    pub fn weekday_name(day: Weekday) -> &'static str {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][day.num_days_from_monday() as usize]
    }
}

fn parse_ranges(text: &str) -> Result<Vec<(NaiveTime, NaiveTime)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (start, end) = part.split_once('-').ok_or_else(|| format!("{part:?} is not like 09:00-17:00"))?;
            let parse = |t: &str| {
                NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| format!("{t:?} is not a HH:MM time"))
            };
            // 24:00 is the last instant of the day.
            let end_of_day = NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap_or_default();
            let (start, end) = (parse(start)?, if end.trim() == "24:00" { Ok(end_of_day) } else { parse(end) }?);
            if start >= end {
                return Err(format!("{part:?} ends before it starts"));
            }
            Ok((start, end))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn berlin_weekdays() -> Hours {
        let config = HoursConfig {
            timezone: "Europe/Berlin".into(),
            mon: "09:00-17:00".into(),
            sat: "10:00-12:00, 13:00-24:00".into(),
            ..Default::default()
        };
        Hours::parse(&config).unwrap()
    }

    #[test]
    fn hours_are_read_in_the_sites_time_zone() {
        let hours = berlin_weekdays();
        // Monday 2026-11-23 08:30 UTC is 09:30 in Berlin (CET, UTC+1).
        assert!(hours.is_open(Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0).unwrap()));
        // 07:30 UTC is 08:30 in Berlin: before opening.
        assert!(!hours.is_open(Utc.with_ymd_and_hms(2026, 11, 23, 7, 30, 0).unwrap()));
    }

    #[test]
    fn a_day_not_written_is_closed_and_ranges_may_be_split() {
        let hours = berlin_weekdays();
        assert!(!hours.is_open(Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()), "Tuesday is closed");
        assert!(hours.is_open(Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap()), "Saturday 11:00 Berlin");
        assert!(!hours.is_open(Utc.with_ymd_and_hms(2026, 11, 28, 11, 30, 0).unwrap()), "Saturday 12:30 Berlin: lunch");
        assert!(
            hours.is_open(Utc.with_ymd_and_hms(2026, 11, 28, 22, 30, 0).unwrap()),
            "Saturday 23:30 Berlin: until midnight"
        );
    }

    #[test]
    fn bad_hours_are_refused_with_the_day_named() {
        let bad = HoursConfig { timezone: "Mars/Olympus".into(), ..Default::default() };
        assert!(Hours::parse(&bad).unwrap_err().contains("Mars/Olympus"));
        let bad = HoursConfig { timezone: "UTC".into(), wed: "17:00-09:00".into(), ..Default::default() };
        assert!(Hours::parse(&bad).unwrap_err().starts_with("wed"));
    }
}
