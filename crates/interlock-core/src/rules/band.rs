use std::cmp::Ordering;

use rust_decimal::Decimal;

use crate::money::{Currency, format_amount};

/// An amount band of a threshold override (SPEC §4). Amounts are never negative, so the
/// open-below bands start at zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Band {
    /// `amount < x`
    Below(Decimal),
    /// `amount <= x`
    AtMost(Decimal),
    /// `amount > x`
    Above(Decimal),
    /// `amount >= x`
    AtLeast(Decimal),
    /// `from <= amount <= to`
    Between { from: Decimal, to: Decimal },
}

/// One end of an interval: the value and whether the value itself is inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct End {
    value: Decimal,
    inclusive: bool,
}

impl Band {
    pub fn contains(&self, amount: Decimal) -> bool {
        match *self {
            Band::Below(x) => amount < x,
            Band::AtMost(x) => amount <= x,
            Band::Above(x) => amount > x,
            Band::AtLeast(x) => amount >= x,
            Band::Between { from, to } => from <= amount && amount <= to,
        }
    }

    fn lower(&self) -> End {
        match *self {
            Band::Below(_) | Band::AtMost(_) => End {
                value: Decimal::ZERO,
                inclusive: true,
            },
            Band::Above(x) => End {
                value: x,
                inclusive: false,
            },
            Band::AtLeast(x) | Band::Between { from: x, .. } => End {
                value: x,
                inclusive: true,
            },
        }
    }

    /// `None` is open above.
    fn upper(&self) -> Option<End> {
        match *self {
            Band::Below(x) => Some(End {
                value: x,
                inclusive: false,
            }),
            Band::AtMost(x) | Band::Between { to: x, .. } => Some(End {
                value: x,
                inclusive: true,
            }),
            Band::Above(_) | Band::AtLeast(_) => None,
        }
    }

    /// True when no amount (zero or more) falls in the band, e.g. `below 0` or `from 9 to 1`.
    pub fn is_empty(&self) -> bool {
        !interval_holds_something(self.lower(), self.upper())
    }

    /// True when some amount falls in both bands.
    pub fn overlaps(&self, other: &Band) -> bool {
        let lower = tighter_lower(self.lower(), other.lower());
        let upper = match (self.upper(), other.upper()) {
            (None, u) | (u, None) => u,
            (Some(a), Some(b)) => Some(tighter_upper(a, b)),
        };
        interval_holds_something(lower, upper)
    }

    /// The bounds named in the band, for checks that apply to each of them.
    pub fn bounds(&self) -> impl Iterator<Item = Decimal> {
        let (a, b) = match *self {
            Band::Below(x) | Band::AtMost(x) | Band::Above(x) | Band::AtLeast(x) => (x, None),
            Band::Between { from, to } => (from, Some(to)),
        };
        std::iter::once(a).chain(b)
    }

    /// Words for people: `< 50.00`, `50.00–500.00`, `>= 1000.00`.
    pub fn label(&self, currency: Currency) -> String {
        let f = |x: Decimal| format_amount(x, currency);
        match *self {
            Band::Below(x) => format!("< {}", f(x)),
            Band::AtMost(x) => format!("<= {}", f(x)),
            Band::Above(x) => format!("> {}", f(x)),
            Band::AtLeast(x) => format!(">= {}", f(x)),
            Band::Between { from, to } => format!("{}–{}", f(from), f(to)),
        }
    }
}

fn tighter_lower(a: End, b: End) -> End {
    match a.value.cmp(&b.value) {
        Ordering::Greater => a,
        Ordering::Less => b,
        Ordering::Equal => End {
            value: a.value,
            inclusive: a.inclusive && b.inclusive,
        },
    }
}

fn tighter_upper(a: End, b: End) -> End {
    match a.value.cmp(&b.value) {
        Ordering::Less => a,
        Ordering::Greater => b,
        Ordering::Equal => End {
            value: a.value,
            inclusive: a.inclusive && b.inclusive,
        },
    }
}

fn interval_holds_something(lower: End, upper: Option<End>) -> bool {
    match upper {
        None => true,
        Some(upper) => match lower.value.cmp(&upper.value) {
            Ordering::Less => true,
            Ordering::Equal => lower.inclusive && upper.inclusive,
            Ordering::Greater => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn touching_bands_overlap_only_when_both_include_the_point() {
        assert!(!Band::Below(d("50")).overlaps(&Band::AtLeast(d("50"))));
        assert!(Band::AtMost(d("50")).overlaps(&Band::AtLeast(d("50"))));
        assert!(!Band::AtMost(d("500")).overlaps(&Band::Above(d("500"))));
        assert!(
            Band::Between {
                from: d("50"),
                to: d("500")
            }
            .overlaps(&Band::AtLeast(d("500")))
        );
        assert!(
            !Band::Between {
                from: d("50"),
                to: d("500")
            }
            .overlaps(&Band::Above(d("500")))
        );
    }

    #[test]
    fn open_above_bands_always_overlap_each_other() {
        assert!(Band::Above(d("1")).overlaps(&Band::AtLeast(d("1000"))));
    }

    #[test]
    fn a_band_below_zero_or_reversed_holds_nothing() {
        assert!(Band::Below(d("0")).is_empty());
        assert!(
            Band::Between {
                from: d("9"),
                to: d("1")
            }
            .is_empty()
        );
        assert!(!Band::AtMost(d("0")).is_empty());
        assert!(
            !Band::Between {
                from: d("5"),
                to: d("5")
            }
            .is_empty()
        );
    }
}
