use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Why an amount or currency was refused. Each variant has a stable wire code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("`{0}` is not an amount; write a plain decimal such as \"120.00\"")]
    NotANumber(String),
    #[error("amount {0} is negative; amounts are never below zero")]
    Negative(String),
    #[error(
        "amount {0} is too large; at most {MAX_INTEGER_DIGITS} digits before the decimal point"
    )]
    TooLarge(String),
    #[error("amount {amount} has {decimals} decimals but {currency} allows {allowed}")]
    TooManyDecimals {
        amount: String,
        decimals: u32,
        currency: Currency,
        allowed: u32,
    },
    #[error("`{0}` is not a supported ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error(
        "the amount is in {got} but this team works in {expected}; amounts are never converted"
    )]
    CurrencyMismatch { expected: Currency, got: Currency },
}

impl AmountError {
    pub const fn code(&self) -> &'static str {
        match self {
            AmountError::NotANumber(_) => "invalid_amount",
            AmountError::Negative(_) => "negative_amount",
            AmountError::TooLarge(_) => "amount_too_large",
            AmountError::TooManyDecimals { .. } => "too_many_decimals",
            AmountError::UnknownCurrency(_) => "unknown_currency",
            AmountError::CurrencyMismatch { .. } => "currency_mismatch",
        }
    }
}

/// Amounts above a trillion-scale are refused as absurd rather than carried along.
const MAX_INTEGER_DIGITS: usize = 15;

/// Currencies Interlock knows, with their minor-unit precision (ISO 4217).
const CURRENCIES: &[(&str, u32)] = &[
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("INR", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PLN", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("USD", 2),
    ("ZAR", 2),
];

/// An ISO 4217 currency code that Interlock knows the precision of.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

impl Currency {
    pub const USD: Currency = Currency {
        code: *b"USD",
        minor_units: 2,
    };

    /// Accepts any number of decimals; used only to read amounts whose currency is itself
    /// invalid, so that the currency problem is reported instead of one per amount.
    pub(crate) const LENIENT: Currency = Currency {
        code: *b"???",
        minor_units: 28,
    };

    pub fn code(&self) -> &str {
        // The code is built only from an ASCII table entry.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// How many decimals an amount in this currency may have.
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CURRENCIES
            .iter()
            .find(|(code, _)| *code == s)
            .map(|(code, units)| {
                let b = code.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    minor_units: *units as u8,
                }
            })
            .ok_or_else(|| AmountError::UnknownCurrency(s.to_owned()))
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses a non-negative decimal amount from its written digits, checking the decimals
/// against the currency. Only `digits[.digits]` is accepted: no sign, exponent or spaces,
/// so what a person wrote is exactly what is compared.
pub fn parse_amount(text: &str, currency: Currency) -> Result<Decimal, AmountError> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(integer) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(AmountError::NotANumber(text.to_owned()));
    }
    let significant_integer = integer.trim_start_matches('0');
    if significant_integer.len() > MAX_INTEGER_DIGITS {
        return Err(AmountError::TooLarge(text.to_owned()));
    }
    let decimals = fraction.map_or(0, str::len);
    // Checked before the sign so that "-0.001" reports its first problem consistently.
    if negative && unsigned.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        return Err(AmountError::Negative(text.to_owned()));
    }
    if decimals > currency.minor_units() as usize {
        return Err(AmountError::TooManyDecimals {
            amount: text.to_owned(),
            decimals: decimals as u32,
            currency,
            allowed: currency.minor_units(),
        });
    }
    Decimal::from_str_exact(unsigned).map_err(|_| AmountError::NotANumber(text.to_owned()))
}

/// An exact amount in a known currency. Never built from a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    /// The amount in the currency's minor units (cents for USD): exact, because an amount
    /// never has more decimals than its currency, and cheap to compare with band bounds.
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, AmountError> {
        let amount = parse_amount(amount, currency)?;
        let minor = to_minor_units(amount, currency)
            .ok_or_else(|| AmountError::TooLarge(amount.to_string()))?;
        Ok(Money {
            amount,
            minor,
            currency,
        })
    }

    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The amount in minor units: `120.00` USD is `12000`.
    pub fn minor_units(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount written with exactly the currency's decimals: `120.00`, `5000` for JPY.
    pub fn amount_text(&self) -> String {
        format_amount(self.amount, self.currency)
    }
}

/// An amount with at most the currency's decimals, in minor units; `None` if it does not
/// fit (never for amounts [`parse_amount`] accepted).
pub(crate) fn to_minor_units(amount: Decimal, currency: Currency) -> Option<i64> {
    use rust_decimal::prelude::ToPrimitive;
    let scaled = amount.checked_mul(Decimal::from(10i64.checked_pow(currency.minor_units())?))?;
    if scaled.fract().is_zero() {
        scaled.to_i64()
    } else {
        None
    }
}

/// Writes an amount with exactly the currency's number of decimals.
pub(crate) fn format_amount(amount: Decimal, currency: Currency) -> String {
    let mut rounded = amount;
    rounded.rescale(currency.minor_units());
    rounded.to_string()
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_text(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        code.parse().unwrap()
    }

    #[test]
    fn a_dollar_amount_with_two_decimals_is_exact() {
        let m = Money::parse("120.10", Currency::USD).unwrap();
        assert_eq!(m.amount(), Decimal::new(12010, 2));
        assert_eq!(m.to_string(), "120.10 USD");
        assert_eq!(m.minor_units(), 12010);
        assert_eq!(
            Money::parse("5000", cur("JPY")).unwrap().minor_units(),
            5000
        );
        assert_eq!(
            Money::parse("999999999999999.99", Currency::USD)
                .unwrap()
                .minor_units(),
            99_999_999_999_999_999
        );
    }

    #[test]
    fn whole_amounts_are_written_with_the_currency_decimals() {
        assert_eq!(
            Money::parse("50", Currency::USD).unwrap().amount_text(),
            "50.00"
        );
        assert_eq!(
            Money::parse("5000", cur("JPY")).unwrap().amount_text(),
            "5000"
        );
        assert_eq!(
            Money::parse("1.5", cur("KWD")).unwrap().amount_text(),
            "1.500"
        );
    }

    #[test]
    fn three_decimals_in_dollars_are_refused() {
        let err = Money::parse("10.005", Currency::USD).unwrap_err();
        assert_eq!(err.code(), "too_many_decimals");
        assert!(err.to_string().contains("USD allows 2"), "{err}");
    }

    #[test]
    fn decimals_in_yen_are_refused() {
        assert_eq!(
            Money::parse("100.50", cur("JPY")).unwrap_err().code(),
            "too_many_decimals"
        );
        assert_eq!(
            Money::parse("100.0", cur("JPY")).unwrap_err().code(),
            "too_many_decimals"
        );
    }

    #[test]
    fn negative_amounts_are_refused_but_negative_zero_is_zero() {
        assert_eq!(
            Money::parse("-1.00", Currency::USD).unwrap_err().code(),
            "negative_amount"
        );
        assert_eq!(
            Money::parse("-0.00", Currency::USD).unwrap().amount(),
            Decimal::ZERO
        );
    }

    #[test]
    fn non_numbers_exponents_and_non_finite_values_are_refused() {
        for text in [
            "", "abc", "1e3", "1.2.3", "+5", " 5", "5 ", "NaN", "inf", "Infinity", ".5", "5.",
            "0x10",
        ] {
            assert_eq!(
                Money::parse(text, Currency::USD).unwrap_err().code(),
                "invalid_amount",
                "{text:?}"
            );
        }
    }

    #[test]
    fn absurdly_large_amounts_are_refused() {
        assert!(Money::parse("999999999999999.99", Currency::USD).is_ok());
        assert_eq!(
            Money::parse("1000000000000000", Currency::USD)
                .unwrap_err()
                .code(),
            "amount_too_large"
        );
        assert_eq!(
            Money::parse(&"9".repeat(400), Currency::USD)
                .unwrap_err()
                .code(),
            "amount_too_large"
        );
    }

    #[test]
    fn leading_zeros_do_not_count_towards_the_size_limit() {
        assert!(Money::parse("0000000000000000001.00", Currency::USD).is_ok());
    }

    #[test]
    fn the_required_currencies_are_known_with_their_precision() {
        for (code, units) in [
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
            ("JPY", 0),
            ("CAD", 2),
            ("AUD", 2),
            ("CHF", 2),
            ("INR", 2),
        ] {
            assert_eq!(cur(code).minor_units(), units, "{code}");
        }
        assert_eq!(
            "usd".parse::<Currency>().unwrap_err().code(),
            "unknown_currency"
        );
        assert_eq!(
            "XXX".parse::<Currency>().unwrap_err().code(),
            "unknown_currency"
        );
    }
}
