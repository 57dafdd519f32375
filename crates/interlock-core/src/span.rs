use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A length of time written as on the wire: `"4h"`, `"90m"`, `"1h30m"`, `"45s"`.
/// Whole seconds; rule sets only ever need hours and minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a duration; write it like \"4h\", \"90m\" or \"1h30m\"")]
pub struct SpanError(pub String);

impl Span {
    pub const fn from_hours(h: u32) -> Span {
        Span { seconds: h * 3600 }
    }

    pub const fn from_minutes(m: u32) -> Span {
        Span { seconds: m * 60 }
    }

    pub const fn from_seconds(seconds: u32) -> Span {
        Span { seconds }
    }

    pub const fn seconds(self) -> u32 {
        self.seconds
    }

    pub fn to_chrono(self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(i64::from(self.seconds))
    }

    /// Words for people: "24 h", "90 min", "1 h 30 min".
    pub fn label(self) -> String {
        let (h, m, s) = (
            self.seconds / 3600,
            self.seconds % 3600 / 60,
            self.seconds % 60,
        );
        let mut parts = Vec::new();
        if h > 0 {
            parts.push(format!("{h} h"));
        }
        if m > 0 {
            parts.push(format!("{m} min"));
        }
        if s > 0 || parts.is_empty() {
            parts.push(format!("{s} s"));
        }
        parts.join(" ")
    }
}

impl FromStr for Span {
    type Err = SpanError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || SpanError(text.to_owned());
        let mut total: u64 = 0;
        let mut digits = String::new();
        let mut last_unit_rank = 0;
        for ch in text.chars() {
            if ch.is_ascii_digit() {
                digits.push(ch);
                continue;
            }
            // Units must appear at most once, largest first: "1h30m", never "30m1h".
            let (unit_seconds, rank) = match ch {
                'h' => (3600, 3),
                'm' => (60, 2),
                's' => (1, 1),
                _ => return Err(bad()),
            };
            if digits.is_empty()
                || digits.len() > 6
                || (last_unit_rank != 0 && rank >= last_unit_rank)
            {
                return Err(bad());
            }
            total += digits.parse::<u64>().map_err(|_| bad())? * unit_seconds;
            digits.clear();
            last_unit_rank = rank;
        }
        if !digits.is_empty() || last_unit_rank == 0 {
            return Err(bad());
        }
        let seconds = u32::try_from(total).map_err(|_| bad())?;
        Ok(Span { seconds })
    }
}

impl fmt::Display for Span {
    /// The shortest wire form: whole hours as `"4h"`, whole minutes as `"90m"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        if s != 0 && s.is_multiple_of(3600) {
            write!(f, "{}h", s / 3600)
        } else if s.is_multiple_of(60) {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_durations_parse_to_seconds() {
        assert_eq!("4h".parse::<Span>().unwrap().seconds(), 4 * 3600);
        assert_eq!("90m".parse::<Span>().unwrap().seconds(), 90 * 60);
        assert_eq!("1h30m".parse::<Span>().unwrap().seconds(), 90 * 60);
        assert_eq!("1h0m30s".parse::<Span>().unwrap().seconds(), 3630);
    }

    #[test]
    fn durations_print_in_their_shortest_wire_form() {
        assert_eq!(Span::from_hours(24).to_string(), "24h");
        assert_eq!(Span::from_minutes(90).to_string(), "90m");
        assert_eq!(Span::from_seconds(45).to_string(), "45s");
        assert_eq!(Span::from_seconds(0).to_string(), "0m");
    }

    #[test]
    fn malformed_durations_are_refused() {
        for text in [
            "", "4", "h", "4x", "4 h", "-4h", "30m1h", "1h1h", "4H", "9999999h", "1.5h",
        ] {
            assert!(text.parse::<Span>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn labels_read_naturally() {
        assert_eq!(Span::from_hours(24).label(), "24 h");
        assert_eq!(Span::from_minutes(90).label(), "1 h 30 min");
    }
}
