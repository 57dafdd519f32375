//! Per-category payload schemas (SPEC §2), checked at the edge with field-level errors.
//!
//! Each category has one table of [`FieldSpec`]s ([`fields`]). The same table drives the
//! checker ([`check`]), the JSON Schema handed to API docs ([`json_schema`]) and the
//! example payloads ([`example`]), so what the docs say is what the server enforces.
//!
//! The rules every payload follows:
//! - it is a JSON object;
//! - a field the category does not know is refused, naming it: what a person approves
//!   must be exactly what runs, so nothing travels along unchecked;
//! - a required field that is missing (or `null`) is named; an optional field that is
//!   `null` is the same as leaving it out;
//! - every string and every list is bounded; required text must not be blank;
//! - text never holds control characters other than tab and, where more than one line is
//!   allowed, line breaks.
//!
//! Every problem is reported at once, each with a path such as `payload.to[1]`.
//!
//! Amounts are only checked for their type here: the server reads them as [`crate::Money`]
//! in the team's currency and reports amount problems with their own codes.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::category::Category;
use crate::span::Span;

/// One thing wrong with a payload: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// A path into the action body, e.g. `payload.to[1]` or `payload.amount`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// What the server needs from a payload that passed [`check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayloadFacts {
    /// REFUND: the amount exactly as written (`"120.00"`; a JSON number's own digits) and
    /// the currency code, both still to be read as [`crate::Money`] by the server.
    pub amount: Option<(String, String)>,
    /// INTERNAL_NOTE (always) and ESCALATE (when given): the card the action is about.
    pub card_id: Option<String>,
}

/// One field of a category's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    pub name: &'static str,
    pub required: bool,
    pub kind: FieldKind,
    /// What the field means, in words for people.
    pub description: &'static str,
    /// A valid value, written as JSON.
    pub example: &'static str,
}

/// What a field holds, with its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// A string of `min..=max` characters (Unicode scalar values). With `min >= 1` it must
    /// not be blank. `one_line` forbids line breaks.
    Text {
        min: usize,
        max: usize,
        one_line: bool,
    },
    /// A list of `min..=max` email addresses (`local@domain`); with `or_single`, one
    /// address written as a plain string is accepted too.
    Emails {
        min: usize,
        max: usize,
        or_single: bool,
    },
    /// A decimal amount: a string such as `"120.00"`, or a JSON number read from its
    /// digits. Its value is checked by the server, against the team currency.
    Amount,
    /// An ISO 4217 currency code: three upper-case letters.
    Currency,
    /// One of a fixed set of words, matched exactly.
    OneOf { values: &'static [&'static str] },
    /// An RFC 3339 timestamp, e.g. `2025-03-01T15:00:00Z`.
    Timestamp,
    /// A duration like `"30m"`, `"1h"` or `"1h30m"`, longer than zero and at most
    /// `max_seconds`.
    Duration { max_seconds: u32 },
    /// An object of record field names to new values: `1..=max_keys` keys, each name
    /// `1..=max_name_chars` characters, each value at most `max_value_chars` as JSON.
    Changes {
        max_keys: usize,
        max_name_chars: usize,
        max_value_chars: usize,
    },
}

/// The longest email address accepted, in characters.
pub const MAX_EMAIL_CHARS: usize = 254;
/// The longest part before the `@`, in characters (RFC 5321).
const MAX_EMAIL_LOCAL_CHARS: usize = 64;
/// Amount text is bounded only so that absurd input is not carried along; the server
/// reports anything past a handful of digits as too large anyway.
const MAX_AMOUNT_CHARS: usize = 1024;
const MAX_TIMESTAMP_CHARS: usize = 64;
const MAX_DURATION_CHARS: usize = 32;
/// Unknown fields named one by one before the rest are summed up.
const MAX_UNKNOWN_FIELDS_NAMED: usize = 20;
/// How much of a refused value is quoted back in a message.
const MAX_QUOTED_CHARS: usize = 60;

const ID: FieldKind = FieldKind::Text {
    min: 1,
    max: 200,
    one_line: true,
};

const fn text(min: usize, max: usize) -> FieldKind {
    FieldKind::Text {
        min,
        max,
        one_line: false,
    }
}

const fn line(min: usize, max: usize) -> FieldKind {
    FieldKind::Text {
        min,
        max,
        one_line: true,
    }
}

const fn required(
    name: &'static str,
    kind: FieldKind,
    description: &'static str,
    example: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        required: true,
        kind,
        description,
        example,
    }
}

const fn optional(
    name: &'static str,
    kind: FieldKind,
    description: &'static str,
    example: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        required: false,
        kind,
        description,
        example,
    }
}

const SEND_EMAIL: &[FieldSpec] = &[
    required(
        "to",
        FieldKind::Emails {
            min: 1,
            max: 50,
            or_single: true,
        },
        "Recipients: one email address, or a list of 1 to 50.",
        r#"["jane@acme.example"]"#,
    ),
    optional(
        "cc",
        FieldKind::Emails {
            min: 0,
            max: 50,
            or_single: false,
        },
        "Copied recipients: a list of up to 50 email addresses.",
        r#"["accounts@acme.example"]"#,
    ),
    required(
        "subject",
        line(1, 998),
        "Subject line: one line of at most 998 characters.",
        r#""About your last invoice""#,
    ),
    required(
        "text",
        text(1, 100_000),
        "Plain-text body.",
        r#""Hello Jane,\n\nSorry about the double charge; it is refunded.""#,
    ),
    optional(
        "html",
        text(0, 500_000),
        "HTML body, sent alongside the plain-text body.",
        r#""<p>Hello Jane,</p><p>Sorry about the double charge; it is refunded.</p>""#,
    ),
];

const SEND_CHAT: &[FieldSpec] = &[
    required(
        "conversation_id",
        ID,
        "The chat conversation to post in.",
        r#""conv_8812""#,
    ),
    required(
        "message",
        text(1, 10_000),
        "The message to send.",
        r#""Thanks for waiting! Your order ships today.""#,
    ),
];

const CRM_UPDATE: &[FieldSpec] = &[
    required(
        "record_type",
        line(1, 100),
        "Kind of CRM record, e.g. contact, company or deal.",
        r#""deal""#,
    ),
    required(
        "record_id",
        ID,
        "The record's id in the CRM.",
        r#""D-1042""#,
    ),
    required(
        "changes",
        FieldKind::Changes {
            max_keys: 100,
            max_name_chars: 200,
            max_value_chars: 10_000,
        },
        "Fields to change, by name, with their new values: 1 to 100 of them.",
        r#"{"stage": "Won", "amount": "12000.00"}"#,
    ),
    optional(
        "note",
        text(0, 10_000),
        "A note to attach to the record.",
        r#""Signed during the Tuesday call.""#,
    ),
];

const REFUND: &[FieldSpec] = &[
    required(
        "customer_id",
        ID,
        "The customer to refund.",
        r#""cus_4471""#,
    ),
    required(
        "amount",
        FieldKind::Amount,
        "The amount, as a decimal string such as \"120.00\" (a JSON number is read exactly).",
        r#""120.00""#,
    ),
    required(
        "currency",
        FieldKind::Currency,
        "ISO 4217 currency code, e.g. USD; must be the team's currency.",
        r#""USD""#,
    ),
    required(
        "kind",
        FieldKind::OneOf {
            values: &["full", "partial", "credit", "discount"],
        },
        "What is granted: a full or partial refund, a credit or a discount.",
        r#""partial""#,
    ),
    required(
        "reason",
        text(1, 2000),
        "Why, in words the approver and the audit trail will read.",
        r#""Charged twice for the March invoice.""#,
    ),
];

const SCHEDULE: &[FieldSpec] = &[
    required(
        "title",
        line(1, 500),
        "Title of the event or reminder.",
        r#""Onboarding call with Acme""#,
    ),
    required(
        "start",
        FieldKind::Timestamp,
        "When it starts, as an RFC 3339 timestamp.",
        r#""2025-03-04T15:00:00Z""#,
    ),
    required(
        "duration",
        FieldKind::Duration {
            max_seconds: 24 * 3600,
        },
        "How long it lasts, like \"30m\", \"1h\" or \"1h30m\"; at most 24h.",
        r#""45m""#,
    ),
    optional(
        "attendees",
        FieldKind::Emails {
            min: 0,
            max: 100,
            or_single: false,
        },
        "Email addresses to invite: up to 100.",
        r#"["jane@acme.example", "sam@ourco.example"]"#,
    ),
];

const INTERNAL_NOTE: &[FieldSpec] = &[
    required(
        "card_id",
        ID,
        "The card to add the note to.",
        r#""card_311""#,
    ),
    required(
        "text",
        text(1, 20_000),
        "The note.",
        r#""Customer prefers email over phone.""#,
    ),
];

const ESCALATE: &[FieldSpec] = &[
    optional(
        "card_id",
        ID,
        "The card to escalate; without one a new priority card is opened.",
        r#""card_311""#,
    ),
    required(
        "severity",
        FieldKind::OneOf {
            values: &["low", "medium", "high", "critical"],
        },
        "How urgent it is.",
        r#""high""#,
    ),
    required(
        "reason",
        text(1, 2000),
        "Why a manager should look, in words they will read.",
        r#""Customer threatens legal action over the outage.""#,
    ),
];

/// The fields a category's payload takes, in the order they are documented and checked.
pub fn fields(category: Category) -> &'static [FieldSpec] {
    match category {
        Category::SendEmail => SEND_EMAIL,
        Category::SendChat => SEND_CHAT,
        Category::CrmUpdate => CRM_UPDATE,
        Category::Refund => REFUND,
        Category::Schedule => SCHEDULE,
        Category::InternalNote => INTERNAL_NOTE,
        Category::Escalate => ESCALATE,
    }
}

/// A valid payload for the category, built from every field's example.
pub fn example(category: Category) -> Value {
    let object: Map<String, Value> = fields(category)
        .iter()
        .map(|spec| {
            let value = serde_json::from_str(spec.example).unwrap_or(Value::Null);
            (spec.name.to_owned(), value)
        })
        .collect();
    Value::Object(object)
}

/// The category's payload as a JSON Schema object, for API docs (`/openapi.json`).
pub fn json_schema(category: Category) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for spec in fields(category) {
        let mut schema = spec.kind.json_schema();
        if spec.required {
            required.push(spec.name);
        } else {
            // `null` is the same as leaving an optional field out.
            schema = json!({"anyOf": [schema, {"type": "null"}]});
        }
        schema["description"] = Value::from(spec.description);
        if let Ok(example) = serde_json::from_str::<Value>(spec.example) {
            schema["example"] = example;
        }
        properties.insert(spec.name.to_owned(), schema);
    }
    json!({
        "title": format!("{category} payload"),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

impl FieldKind {
    /// The kind as a JSON Schema object (without description).
    pub fn json_schema(&self) -> Value {
        match *self {
            FieldKind::Text { min, max, one_line } => {
                let mut schema = json!({"type": "string", "minLength": min, "maxLength": max});
                if one_line {
                    schema["pattern"] = Value::from("^[^\\r\\n]*$");
                }
                schema
            }
            FieldKind::Emails {
                min,
                max,
                or_single,
            } => {
                let address = email_schema();
                let list =
                    json!({"type": "array", "items": address, "minItems": min, "maxItems": max});
                if or_single {
                    json!({"oneOf": [email_schema(), list]})
                } else {
                    list
                }
            }
            FieldKind::Amount => json!({"oneOf": [
                {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$", "maxLength": MAX_AMOUNT_CHARS},
                {"type": "number", "minimum": 0},
            ]}),
            FieldKind::Currency => json!({"type": "string", "pattern": "^[A-Z]{3}$"}),
            FieldKind::OneOf { values } => json!({"type": "string", "enum": values}),
            FieldKind::Timestamp => {
                json!({"type": "string", "format": "date-time", "maxLength": MAX_TIMESTAMP_CHARS})
            }
            FieldKind::Duration { .. } => json!({
                "type": "string",
                "pattern": "^([0-9]+h)?([0-9]+m)?([0-9]+s)?$",
                "maxLength": MAX_DURATION_CHARS,
            }),
            FieldKind::Changes {
                max_keys,
                max_name_chars,
                ..
            } => json!({
                "type": "object",
                "minProperties": 1,
                "maxProperties": max_keys,
                "propertyNames": {"minLength": 1, "maxLength": max_name_chars},
            }),
        }
    }

    /// The kind in words for people, e.g. "one line of 1 to 998 characters".
    pub fn summary(&self) -> String {
        match *self {
            FieldKind::Text { min, max, one_line } => {
                let what = if one_line { "one line" } else { "text" };
                if min == 0 {
                    format!("{what} of at most {max} characters")
                } else {
                    format!("{what} of {min} to {max} characters")
                }
            }
            FieldKind::Emails {
                min,
                max,
                or_single,
            } => {
                let list = if min == 0 {
                    format!("a list of up to {max} email addresses")
                } else {
                    format!("a list of {min} to {max} email addresses")
                };
                if or_single {
                    format!("an email address, or {list}")
                } else {
                    list
                }
            }
            FieldKind::Amount => {
                "a decimal amount such as \"120.00\" (a JSON number is read exactly)".to_owned()
            }
            FieldKind::Currency => "a three-letter ISO 4217 currency code".to_owned(),
            FieldKind::OneOf { values } => format!("one of {}", values.join(", ")),
            FieldKind::Timestamp => "an RFC 3339 timestamp".to_owned(),
            FieldKind::Duration { max_seconds } => format!(
                "a duration like \"30m\" or \"1h30m\", at most {}",
                Span::from_seconds(max_seconds)
            ),
            FieldKind::Changes {
                max_keys,
                max_value_chars,
                ..
            } => format!(
                "an object of 1 to {max_keys} field names to new values \
                 (each at most {max_value_chars} characters as JSON)"
            ),
        }
    }

    /// What a value of this kind is, for "must be …; found …" messages.
    fn expected(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "a string",
            FieldKind::Emails {
                or_single: true, ..
            } => "an email address or a list of email addresses",
            FieldKind::Emails { .. } => "a list of email addresses",
            FieldKind::Amount => "a decimal string such as \"120.00\" or a JSON number",
            FieldKind::Currency => "a currency code such as \"USD\"",
            FieldKind::OneOf { .. } => "a string",
            FieldKind::Timestamp => "an RFC 3339 timestamp string such as \"2025-03-04T15:00:00Z\"",
            FieldKind::Duration { .. } => "a duration string such as \"30m\" or \"1h30m\"",
            FieldKind::Changes { .. } => "an object of field names to new values",
        }
    }
}

fn email_schema() -> Value {
    json!({"type": "string", "format": "email", "maxLength": MAX_EMAIL_CHARS})
}

/// Checks a category's payload against its schema, reporting every problem at once.
pub fn check(category: Category, payload: &Value) -> Result<PayloadFacts, Vec<FieldProblem>> {
    let mut problems = Problems::default();
    let Some(object) = payload.as_object() else {
        problems.add(
            "payload",
            format!(
                "the {category} payload must be a JSON object; found {}",
                type_name(payload)
            ),
        );
        return Err(problems.0);
    };
    let specs = fields(category);

    for spec in specs {
        let path = format!("payload.{}", spec.name);
        match object.get(spec.name) {
            None | Some(Value::Null) if spec.required => problems.add(
                path,
                format!("`{}` is required: {}", spec.name, spec.description),
            ),
            None | Some(Value::Null) => {}
            Some(value) => check_value(&spec.kind, value, &path, &mut problems),
        }
    }

    let unknown: Vec<&String> = object
        .keys()
        .filter(|key| !specs.iter().any(|spec| spec.name == key.as_str()))
        .collect();
    let known = specs
        .iter()
        .map(|spec| spec.name)
        .collect::<Vec<_>>()
        .join(", ");
    for key in unknown.iter().take(MAX_UNKNOWN_FIELDS_NAMED) {
        let hint = closest_name(key, specs)
            .map(|name| format!(" (did you mean `{name}`?)"))
            .unwrap_or_default();
        problems.add(
            child_path("payload", key),
            format!(
                "unknown field {}{hint}; {category} payloads take only: {known}. \
                 Nothing is passed along unchecked, so what is approved is exactly what runs",
                quoted(key)
            ),
        );
    }
    if unknown.len() > MAX_UNKNOWN_FIELDS_NAMED {
        problems.add(
            "payload",
            format!(
                "and {} more unknown fields; {category} payloads take only: {known}",
                unknown.len() - MAX_UNKNOWN_FIELDS_NAMED
            ),
        );
    }

    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    Ok(facts(specs, object))
}

/// Reads the facts from a payload that passed its checks.
fn facts(specs: &[FieldSpec], object: &Map<String, Value>) -> PayloadFacts {
    let mut amount = None;
    let mut currency = None;
    let mut card_id = None;
    for spec in specs {
        let value = object.get(spec.name);
        match (spec.kind, value) {
            (FieldKind::Amount, Some(Value::String(s))) => amount = Some(s.clone()),
            (FieldKind::Amount, Some(Value::Number(n))) => amount = Some(n.to_string()),
            (FieldKind::Currency, Some(Value::String(s))) => currency = Some(s.clone()),
            _ => {}
        }
        if spec.name == "card_id" {
            card_id = value.and_then(Value::as_str).map(str::to_owned);
        }
    }
    PayloadFacts {
        amount: amount.zip(currency),
        card_id,
    }
}

/// Collects problems as the payload is walked, so that all are reported at once.
#[derive(Default)]
struct Problems(Vec<FieldProblem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldProblem {
            field: field.into(),
            message: message.into(),
        });
    }
}

fn check_value(kind: &FieldKind, value: &Value, path: &str, problems: &mut Problems) {
    let label = field_label(path);
    let wrong_type = |problems: &mut Problems| {
        problems.add(
            path,
            format!(
                "`{label}` must be {}; found {}",
                kind.expected(),
                type_name(value)
            ),
        );
    };
    match *kind {
        FieldKind::Text { min, max, one_line } => match value {
            Value::String(s) => {
                if let Some(why) = text_problem(s, min, max, one_line) {
                    problems.add(path, format!("`{label}` {why}"));
                }
            }
            _ => wrong_type(problems),
        },
        FieldKind::Emails {
            min,
            max,
            or_single,
        } => match value {
            Value::String(s) if or_single => check_email(s, path, problems),
            Value::Array(items) => {
                if items.len() < min {
                    let needed = if min == 1 {
                        "one email address".to_owned()
                    } else {
                        format!("{min} email addresses")
                    };
                    problems.add(path, format!("`{label}` needs at least {needed}"));
                } else if items.len() > max {
                    problems.add(
                        path,
                        format!(
                            "`{label}` has {} addresses; at most {max} are allowed",
                            items.len()
                        ),
                    );
                } else {
                    for (i, item) in items.iter().enumerate() {
                        let item_path = format!("{path}[{i}]");
                        match item {
                            Value::String(s) => check_email(s, &item_path, problems),
                            other => problems.add(
                                &item_path,
                                format!(
                                    "`{}` must be an email address string; found {}",
                                    field_label(&item_path),
                                    type_name(other)
                                ),
                            ),
                        }
                    }
                }
            }
            _ => wrong_type(problems),
        },
        FieldKind::Amount => {
            let written = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return wrong_type(problems),
            };
            if written.chars().count() > MAX_AMOUNT_CHARS {
                problems.add(
                    path,
                    format!("`{label}` is longer than {MAX_AMOUNT_CHARS} characters"),
                );
            }
        }
        FieldKind::Currency => match value {
            Value::String(s) => {
                if !(s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())) {
                    problems.add(
                        path,
                        format!(
                            "`{label}` must be a three-letter upper-case ISO 4217 code such as \
                             \"USD\"; found {}",
                            quoted(s)
                        ),
                    );
                }
            }
            _ => wrong_type(problems),
        },
        FieldKind::OneOf { values } => match value {
            Value::String(s) if values.contains(&s.as_str()) => {}
            Value::String(s) => problems.add(
                path,
                format!(
                    "`{label}` must be one of {}; found {}",
                    values.join(", "),
                    quoted(s)
                ),
            ),
            _ => problems.add(
                path,
                format!(
                    "`{label}` must be one of {}; found {}",
                    values.join(", "),
                    type_name(value)
                ),
            ),
        },
        FieldKind::Timestamp => match value {
            Value::String(s) => {
                let fits = s.len() <= MAX_TIMESTAMP_CHARS;
                if !fits || chrono::DateTime::parse_from_rfc3339(s).is_err() {
                    problems.add(
                        path,
                        format!(
                            "`{label}` must be an RFC 3339 timestamp such as \
                             \"2025-03-04T15:00:00Z\"; found {}",
                            quoted(s)
                        ),
                    );
                }
            }
            _ => wrong_type(problems),
        },
        FieldKind::Duration { max_seconds } => match value {
            Value::String(s) => {
                let parsed = if s.len() <= MAX_DURATION_CHARS {
                    s.parse::<Span>().ok()
                } else {
                    None
                };
                let max = Span::from_seconds(max_seconds);
                match parsed {
                    None => problems.add(
                        path,
                        format!(
                            "`{label}` must be a duration like \"30m\", \"1h\" or \"1h30m\"; \
                             found {}",
                            quoted(s)
                        ),
                    ),
                    Some(span) if span.seconds() == 0 => {
                        problems.add(path, format!("`{label}` must be longer than zero"));
                    }
                    Some(span) if span > max => problems.add(
                        path,
                        format!(
                            "`{label}` is {}; at most {max} ({}) is allowed",
                            span.label(),
                            max.label()
                        ),
                    ),
                    Some(_) => {}
                }
            }
            _ => wrong_type(problems),
        },
        FieldKind::Changes {
            max_keys,
            max_name_chars,
            max_value_chars,
        } => match value {
            Value::Object(changes) => {
                if changes.is_empty() {
                    problems.add(path, format!("`{label}` must change at least one field"));
                } else if changes.len() > max_keys {
                    problems.add(
                        path,
                        format!(
                            "`{label}` changes {} fields; at most {max_keys} are allowed",
                            changes.len()
                        ),
                    );
                } else {
                    for (name, new_value) in changes {
                        let field_path = child_path(path, name);
                        if let Some(why) = text_problem(name, 1, max_name_chars, true) {
                            problems.add(
                                &field_path,
                                format!("field name {} in `{label}` {why}", quoted(name)),
                            );
                            continue;
                        }
                        let size = new_value.to_string().chars().count();
                        if size > max_value_chars {
                            problems.add(
                                &field_path,
                                format!(
                                    "the new value of {} is {size} characters as JSON; \
                                     at most {max_value_chars} are allowed",
                                    quoted(name)
                                ),
                            );
                        }
                    }
                }
            }
            _ => wrong_type(problems),
        },
    }
}

/// Why a text does not fit its bounds, as words following the field's name.
fn text_problem(text: &str, min: usize, max: usize, one_line: bool) -> Option<String> {
    if min > 0 && text.is_empty() {
        return Some("must not be empty".to_owned());
    }
    if min > 0 && text.trim().is_empty() {
        return Some("must not be blank".to_owned());
    }
    let chars = text.chars().count();
    if chars > max {
        return Some(format!(
            "is {chars} characters long; at most {max} are allowed"
        ));
    }
    if chars < min {
        return Some(format!(
            "is {chars} characters long; at least {min} are needed"
        ));
    }
    let allowed = |c: char| c == '\t' || (!one_line && (c == '\n' || c == '\r'));
    if let Some(c) = text.chars().find(|&c| c.is_control() && !allowed(c)) {
        return Some(if c == '\n' || c == '\r' {
            "must be one line; it contains a line break".to_owned()
        } else {
            format!("contains a control character (U+{:04X})", u32::from(c))
        });
    }
    None
}

fn check_email(address: &str, path: &str, problems: &mut Problems) {
    if let Some(why) = email_problem(address) {
        problems.add(
            path,
            format!(
                "`{}` is not an email address: {} {why}",
                field_label(path),
                quoted(address)
            ),
        );
    }
}

/// Why a string is not a plain `local@domain` address, if it is not. Pragmatic, not
/// RFC 5322: no display names, comments, quoted local parts or address literals.
fn email_problem(address: &str) -> Option<&'static str> {
    if address.is_empty() {
        return Some("is empty");
    }
    if address.chars().count() > MAX_EMAIL_CHARS {
        return Some("is longer than 254 characters");
    }
    if address.chars().any(|c| "<>()[],;:\"\\".contains(c)) {
        return Some(
            "contains a character not allowed in a plain address; write only local@domain, \
             without a display name",
        );
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("contains a space or a control character");
    }
    let Some((local, domain)) = address.split_once('@') else {
        return Some("has no `@`");
    };
    if domain.contains('@') {
        return Some("has more than one `@`");
    }
    if local.is_empty() {
        return Some("has nothing before the `@`");
    }
    if local.chars().count() > MAX_EMAIL_LOCAL_CHARS {
        return Some("has more than 64 characters before the `@`");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some("has a misplaced dot before the `@`");
    }
    if domain.is_empty() {
        return Some("has nothing after the `@`");
    }
    if !domain.contains('.') {
        return Some("has no dot in its domain");
    }
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    if !labels_ok {
        return Some("has a domain that is not a valid host name");
    }
    None
}

/// `payload.to[1]` → `to[1]`: how a field is named inside a message.
fn field_label(path: &str) -> &str {
    path.strip_prefix("payload.").unwrap_or(path)
}

/// The path of a member: `payload.subject`, or `payload["odd name"]` when the name is not
/// a plain word.
fn child_path(parent: &str, name: &str) -> String {
    let plain = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        format!("{parent}.{name}")
    } else {
        format!("{parent}[{}]", quoted(name))
    }
}

/// A value quoted back in a message: JSON-escaped and cut short if long.
fn quoted(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED_CHARS {
        return Value::from(text).to_string();
    }
    let head: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    let head = Value::from(head).to_string();
    format!("{}…\"", &head[..head.len() - 1])
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The known field an unknown one was probably meant to be: the same name in another case,
/// or a near miss (one edit in a short name, two in a longer one). Short names get no
/// guess: `bcc` is not a misspelt `cc`, and suggesting it would copy hidden recipients.
fn closest_name(unknown: &str, specs: &[FieldSpec]) -> Option<&'static str> {
    if unknown.len() > 64 {
        return None;
    }
    let lower = unknown.to_lowercase();
    let allowed = match lower.chars().count() {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    };
    specs
        .iter()
        .map(|spec| (edit_distance(&lower, spec.name), spec.name))
        .filter(|&(distance, _)| distance <= allowed)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance, counting an adjacent swap ("subjcet") as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * width + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let substitution = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * width + j] + 1)
                    .min(d[i * width + j - 1] + 1)
                    .min(d[(i - 1) * width + j - 1] + substitution);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * width + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_addresses_pass_and_odd_ones_say_why() {
        for ok in [
            "jane@acme.example",
            "j.doe+billing@mail.acme.co.uk",
            "x@a.io",
            "élodie@exemple.fr",
        ] {
            assert_eq!(email_problem(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("jane", "has no `@`"),
            ("@acme.example", "has nothing before the `@`"),
            ("jane@", "has nothing after the `@`"),
            ("jane@acme", "has no dot in its domain"),
            ("jane@@acme.example", "has more than one `@`"),
            (
                "ja ne@acme.example",
                "contains a space or a control character",
            ),
            (
                "jane@acme..example",
                "has a domain that is not a valid host name",
            ),
            (
                "jane@-acme.example",
                "has a domain that is not a valid host name",
            ),
            (".jane@acme.example", "has a misplaced dot before the `@`"),
        ] {
            assert_eq!(email_problem(bad), Some(why), "{bad}");
        }
        assert!(email_problem("Jane <jane@acme.example>").is_some());
        let long = format!("{}@acme.example", "a".repeat(250));
        assert_eq!(email_problem(&long), Some("is longer than 254 characters"));
    }

    #[test]
    fn typos_are_matched_to_the_field_they_were_meant_to_be() {
        assert_eq!(closest_name("subjcet", SEND_EMAIL), Some("subject"));
        assert_eq!(closest_name("Subject", SEND_EMAIL), Some("subject"));
        assert_eq!(closest_name("TO", SEND_EMAIL), Some("to"));
        assert_eq!(closest_name("bcc", SEND_EMAIL), None);
        assert_eq!(closest_name("priority", SEND_EMAIL), None);
    }

    #[test]
    fn odd_member_names_are_quoted_in_paths() {
        assert_eq!(child_path("payload", "subject"), "payload.subject");
        assert_eq!(child_path("payload", "a b"), "payload[\"a b\"]");
        assert_eq!(child_path("payload", ""), "payload[\"\"]");
    }

    #[test]
    fn long_values_are_cut_short_when_quoted() {
        let q = quoted(&"x".repeat(500));
        assert!(q.ends_with("…\"") && q.chars().count() < 70, "{q}");
    }
}
