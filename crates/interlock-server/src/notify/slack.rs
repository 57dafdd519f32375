//! The Slack-compatible incoming-webhook message: a `text` fallback (what notifications
//! and old clients show) and Block Kit `blocks` with a button into the console. The shape
//! is documented in `docs/connectors.md` and pinned by snapshot tests.

use serde_json::{Value, json};

use super::render::Notice;

/// Slack's mrkdwn treats `&`, `<` and `>` as markup; everything else is literal.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn message(n: &Notice) -> Value {
    let title = match &n.link {
        Some(url) => format!("<{}|{}>", escape(url), escape(&n.title)),
        None => escape(&n.title),
    };
    let facts: Vec<Value> = n
        .facts
        .iter()
        .map(|(label, value)| json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", escape(value))}))
        .collect();
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": format!("*{}*\n{title}", escape(&n.headline))},
    })];
    // Slack allows at most ten fields in a section.
    for chunk in facts.chunks(10) {
        blocks.push(json!({"type": "section", "fields": chunk}));
    }
    if let Some(url) = &n.link {
        blocks.push(json!({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": "Open in Interlock"},
                "url": url,
            }],
        }));
    }
    json!({
        "text": format!("{}: {}", n.headline, n.title),
        "blocks": blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::render::notice;

    fn payload(event: &str, reminder: Option<&str>) -> Value {
        json!({
            "event": event,
            "reminder": reminder,
            "team": "support",
            "action": {
                "id": "01960000-0000-7000-8000-000000000001",
                "category": "REFUND",
                "title": "Refund <120.00> to Acme & Co",
                "level": "time_bomb",
                "status": "armed",
                "amount": "120.00",
                "currency": "USD",
                "deadline": "2026-03-03T09:00:00Z",
                "url": "https://interlock.ourco.example/actions/01960000-0000-7000-8000-000000000001",
            },
        })
    }

    #[test]
    fn an_armed_time_bomb_reads_as_documented() {
        insta::assert_json_snapshot!(message(&notice(&payload("time_bomb.armed", None))));
    }

    #[test]
    fn a_final_warning_reads_as_documented() {
        insta::assert_json_snapshot!(message(&notice(&payload(
            "time_bomb.reminder",
            Some("final_warning")
        ))));
    }

    #[test]
    fn a_rejection_without_a_console_address_has_no_button() {
        let mut p = payload("action.rejected", None);
        p["action"]["url"] = Value::Null;
        p["action"]["reason"] = json!("not our fault");
        insta::assert_json_snapshot!(message(&notice(&p)));
    }

    #[test]
    fn markup_in_titles_is_escaped() {
        let m = message(&notice(&payload("time_bomb.armed", None)));
        let section = m["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            section.contains("Refund &lt;120.00&gt; to Acme &amp; Co"),
            "{section}"
        );
    }
}
