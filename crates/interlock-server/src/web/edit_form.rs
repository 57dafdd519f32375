//! "Approve with edits": one input per payload field of the action's category, built from
//! the same field table that checks payloads (`interlock_core::payload`), and the form
//! read back into a payload. The service then checks the edited payload like a proposal.

use interlock_core::Category;
use interlock_core::payload::{self, FieldKind};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// Form inputs are named `p.<field>` so they cannot collide with the form's own fields.
const PREFIX: &str = "p.";

#[derive(Debug, Clone)]
pub struct FieldInput {
    pub name: String,
    pub input_name: String,
    pub description: &'static str,
    pub required: bool,
    /// `line`, `area` or `select`.
    pub control: &'static str,
    pub value: String,
    /// For `select`: the allowed words and whether each is the current one.
    pub options: Vec<(String, bool)>,
}

fn as_text(kind: FieldKind, value: Option<&Value>) -> String {
    match (kind, value) {
        (_, None | Some(Value::Null)) => String::new(),
        (FieldKind::Emails { .. }, Some(Value::Array(list))) => list
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        (FieldKind::Changes { .. }, Some(v)) => serde_json::to_string_pretty(v).unwrap_or_default(),
        (_, Some(Value::String(s))) => s.clone(),
        (_, Some(other)) => other.to_string(),
    }
}

/// The inputs for a payload, filled with its current values.
pub fn inputs(category: Category, current: &Value) -> Vec<FieldInput> {
    payload::fields(category)
        .iter()
        .map(|spec| {
            let value = as_text(spec.kind, current.get(spec.name));
            let (control, options) = match spec.kind {
                FieldKind::OneOf { values } => (
                    "select",
                    values
                        .iter()
                        .map(|v| ((*v).to_owned(), *v == value))
                        .collect(),
                ),
                FieldKind::Text {
                    one_line: false, ..
                }
                | FieldKind::Changes { .. } => ("area", Vec::new()),
                _ => ("line", Vec::new()),
            };
            FieldInput {
                name: spec.name.to_owned(),
                input_name: format!("{PREFIX}{}", spec.name),
                description: spec.description,
                required: spec.required,
                control,
                value,
                options,
            }
        })
        .collect()
}

/// Reads the edited payload from the form. An empty optional field is left out; a field
/// the form does not carry keeps its current value.
pub fn payload_from_form(
    category: Category,
    current: &Value,
    form: &[(String, String)],
) -> ApiResult<Value> {
    let mut out = Map::new();
    for spec in payload::fields(category) {
        let sent = form
            .iter()
            .find(|(n, _)| n.strip_prefix(PREFIX) == Some(spec.name))
            .map(|(_, v)| v.trim());
        let value = match sent {
            None => match current.get(spec.name) {
                Some(v) => v.clone(),
                None => continue,
            },
            Some("") if !spec.required => continue,
            Some(text) => parse_input(spec.name, spec.kind, text)?,
        };
        out.insert(spec.name.to_owned(), value);
    }
    Ok(Value::Object(out))
}

fn parse_input(name: &str, kind: FieldKind, text: &str) -> ApiResult<Value> {
    Ok(match kind {
        FieldKind::Emails { .. } => Value::Array(
            text.split([',', ';', '\n', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        FieldKind::Changes { .. } => serde_json::from_str(text).map_err(|e| {
            ApiError::unprocessable(
                "invalid_payload",
                format!("`{name}` must be a JSON object of field names to values: {e}"),
            )
        })?,
        _ => Value::String(text.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_email_round_trips_through_its_form() {
        let current =
            json!({"to": ["a@x.example", "b@x.example"], "subject": "Hi", "text": "Body"});
        let shown = inputs(Category::SendEmail, &current);
        assert_eq!(shown[0].value, "a@x.example, b@x.example");
        let sent: Vec<(String, String)> = shown
            .iter()
            .map(|f| (f.input_name.clone(), f.value.clone()))
            .collect();
        let back = payload_from_form(Category::SendEmail, &current, &sent).unwrap();
        assert_eq!(back, current);
        assert!(payload::check(Category::SendEmail, &back).is_ok());
    }

    #[test]
    fn an_edited_refund_amount_is_kept_as_text_and_blank_optionals_are_dropped() {
        let current = payload::example(Category::Refund);
        let sent = form(&[("p.amount", "80.00"), ("p.reason", "")]);
        let spec_reason_optional = payload::fields(Category::Refund)
            .iter()
            .any(|f| f.name == "reason" && !f.required);
        let back = payload_from_form(Category::Refund, &current, &sent).unwrap();
        assert_eq!(back["amount"], "80.00");
        if spec_reason_optional {
            assert!(back.get("reason").is_none());
        }
    }

    #[test]
    fn crm_changes_that_are_not_json_are_refused_with_the_field_named() {
        let current = payload::example(Category::CrmUpdate);
        let sent = form(&[("p.changes", "{not json")]);
        let err = payload_from_form(Category::CrmUpdate, &current, &sent).unwrap_err();
        assert!(err.message.contains("`changes`"), "{}", err.message);
    }
}
