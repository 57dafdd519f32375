//! The difference between two payloads, for the audit trail of an approval with edits.

use serde_json::{Value, json};

/// Every changed leaf as `{path, before, after}`; absent values are `null`.
pub fn payload_diff(before: &Value, after: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    walk("payload", before, after, &mut out);
    out
}

fn walk(path: &str, before: &Value, after: &Value, out: &mut Vec<Value>) {
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
                walk(&format!("{path}.{k}"), x, y, out);
            }
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
}
