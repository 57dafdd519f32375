use rust_decimal::Decimal;

use crate::money::{Currency, format_amount, to_minor_units};

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

    /// The band as a closed range of minor units (cents for USD), `i64::MAX` when open
    /// above. Amounts only exist in whole minor units, so `< 50.00` is `0..=4999`: bands
    /// overlap exactly when some real amount in the currency falls in both, and deciding
    /// compares integers. `None` if a bound has more decimals than the currency allows.
    pub fn minor_range(&self, currency: Currency) -> Option<MinorRange> {
        let m = |x: Decimal| to_minor_units(x, currency);
        let (lo, hi) = match *self {
            Band::Below(x) => (0, m(x)?.checked_sub(1)?),
            Band::AtMost(x) => (0, m(x)?),
            Band::Above(x) => (m(x)?.checked_add(1)?, i64::MAX),
            Band::AtLeast(x) => (m(x)?, i64::MAX),
            Band::Between { from, to } => (m(from)?, m(to)?),
        };
        Some(MinorRange { lo, hi })
    }

    /// The amounts the band names: one, or two for `from`–`to`.
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

/// A closed range of minor units, `lo..=hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MinorRange {
    pub lo: i64,
    pub hi: i64,
}

impl MinorRange {
    pub fn contains(&self, minor: i64) -> bool {
        self.lo <= minor && minor <= self.hi
    }

    /// True when no amount falls in it, e.g. `below 0` or `from 9 to 1`.
    pub fn is_empty(&self) -> bool {
        self.lo > self.hi
    }

    pub fn overlaps(&self, other: &MinorRange) -> bool {
        self.lo.max(other.lo) <= self.hi.min(other.hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn r(b: Band) -> MinorRange {
        b.minor_range(Currency::USD).unwrap()
    }

    #[test]
    fn touching_bands_overlap_only_when_both_include_the_point() {
        assert!(!r(Band::Below(d("50"))).overlaps(&r(Band::AtLeast(d("50")))));
        assert!(r(Band::AtMost(d("50"))).overlaps(&r(Band::AtLeast(d("50")))));
        assert!(!r(Band::AtMost(d("500"))).overlaps(&r(Band::Above(d("500")))));
        assert!(
            r(Band::Between {
                from: d("50"),
                to: d("500")
            })
            .overlaps(&r(Band::AtLeast(d("500"))))
        );
        assert!(
            !r(Band::Between {
                from: d("50"),
                to: d("500")
            })
            .overlaps(&r(Band::Above(d("500"))))
        );
    }

    #[test]
    fn bands_that_share_no_whole_cent_do_not_overlap() {
        assert!(!r(Band::Below(d("24.99"))).overlaps(&r(Band::Above(d("24.98")))));
    }

    #[test]
    fn open_above_bands_always_overlap_each_other() {
        assert!(r(Band::Above(d("1"))).overlaps(&r(Band::AtLeast(d("1000")))));
    }

    #[test]
    fn a_band_below_zero_or_reversed_holds_nothing() {
        assert!(r(Band::Below(d("0"))).is_empty());
        assert!(
            r(Band::Between {
                from: d("9"),
                to: d("1")
            })
            .is_empty()
        );
        assert!(!r(Band::AtMost(d("0"))).is_empty());
        assert!(
            !r(Band::Between {
                from: d("5"),
                to: d("5")
            })
            .is_empty()
        );
    }

    #[test]
    fn minor_ranges_agree_with_decimal_membership() {
        let bands = [
            Band::Below(d("50")),
            Band::AtMost(d("50")),
            Band::Above(d("50")),
            Band::AtLeast(d("50")),
            Band::Between {
                from: d("49.99"),
                to: d("50.01"),
            },
        ];
        for cents in 4990..5010 {
            let amount = Decimal::new(cents, 2);
            for b in bands {
                assert_eq!(b.contains(amount), r(b).contains(cents), "{b:?} {amount}");
            }
        }
    }
}
