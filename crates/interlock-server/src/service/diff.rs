//! The difference between two payloads, for the audit trail of an approval with edits.

use serde_json::{Value, json};

/// Every changed leaf as `{path, before, after}`; absent values are `null`. A changed
/// list is one entry (an edited recipient list reads best whole).
pub fn payload_diff(before: &Value, after: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    walk("payload", before, after, false, &mut out);
    out
}

/// Like [`payload_diff`] from `root`, but lists are compared item by item (a rule set's
/// bands: `categories.REFUND.thresholds[1].to`).
pub fn document_diff(root: &str, before: &Value, after: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    walk(root, before, after, true, &mut out);
    out
}

fn walk(path: &str, before: &Value, after: &Value, into_lists: bool, out: &mut Vec<Value>) {
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                let at = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(&at, x, y, into_lists, out);
            }
        }
        (Value::Array(a), Value::Array(b)) if into_lists && a != b => {
            for i in 0..a.len().max(b.len()) {
                let (x, y) = (
                    a.get(i).unwrap_or(&Value::Null),
                    b.get(i).unwrap_or(&Value::Null),
                );
                walk(&format!("{path}[{i}]"), x, y, into_lists, out);
            }
        }
        // A band added or removed reads best setting by setting.
        (Value::Null, Value::Object(_)) | (Value::Object(_), Value::Null) if into_lists => {
            let empty = Value::Object(serde_json::Map::new());
            let (a, b) = match (before, after) {
                (Value::Null, b) => (&empty, b),
                (a, _) => (a, &empty),
            };
            walk(path, a, b, into_lists, out);
        }
        (a, b) if a != b => out.push(json!({"path": path, "before": a, "after": b})),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_listed_with_their_paths() {
        let d = payload_diff(
            &json!({"subject": "Sorry", "to": ["a@x.io"], "meta": {"n": 1}}),
            &json!({"subject": "Our apologies", "to": ["a@x.io"], "meta": {"n": 2}, "cc": ["b@x.io"]}),
        );
        let paths: Vec<&str> = d.iter().map(|c| c["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["payload.cc", "payload.meta.n", "payload.subject"]);
        assert_eq!(d[2]["before"], "Sorry");
    }

    #[test]
    fn identical_payloads_have_no_difference() {
        assert!(payload_diff(&json!({"a": [1, 2]}), &json!({"a": [1, 2]})).is_empty());
    }

    #[test]
    fn a_document_diff_names_the_band_that_changed() {
        let d = document_diff(
            "",
            &json!({"categories": {"REFUND": {"thresholds": [{"below": "50.00"}, {"to": "500.00"}]}}}),
            &json!({"categories": {"REFUND": {"thresholds": [{"below": "50.00"}, {"to": "400.00"}]}}}),
        );
        assert_eq!(
            d,
            vec![
                json!({"path": "categories.REFUND.thresholds[1].to", "before": "500.00", "after": "400.00"})
            ]
        );
    }
}
