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
