//! What a notification says, in words, for Slack and email alike: a headline and a few
//! facts, read from the delivery's payload (`{"event", "reminder", "action": {…}}`).

use serde_json::Value;

/// One notification, ready to be worded for a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub headline: String,
    pub title: String,
    /// `(label, value)` pairs, in reading order.
    pub facts: Vec<(&'static str, String)>,
    /// Where to open the action in the console, when its address is configured.
    pub link: Option<String>,
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A time as people read it: `2026-03-02 13:00 UTC`.
fn when(v: &Value) -> Option<String> {
    let t: chrono::DateTime<chrono::Utc> = v.as_str()?.parse().ok()?;
    Some(t.format("%Y-%m-%d %H:%M UTC").to_string())
}

pub fn notice(payload: &Value) -> Notice {
    let a = &payload["action"];
    let deadline = when(&a["deadline"]).unwrap_or_else(|| "its deadline".to_owned());
    let event = payload["event"].as_str().unwrap_or_default();
    let headline = match (event, payload["reminder"].as_str()) {
        ("action.awaiting_approval", _) => "Waiting for approval".to_owned(),
        ("time_bomb.armed", _) => {
            format!("Time bomb armed: executes at {deadline} unless someone steps in")
        }
        ("time_bomb.reminder", Some("half")) => {
            format!("Half the countdown is gone: executes at {deadline}")
        }
        ("time_bomb.reminder", Some("ninety")) => {
            format!("10% of the countdown left: executes at {deadline}")
        }
        ("time_bomb.reminder", _) => format!("Final warning: executes at {deadline}"),
        ("action.executed", _) => "Executed".to_owned(),
        ("action.failed", _) => "Execution failed".to_owned(),
        ("action.rejected", _) => "Rejected".to_owned(),
        ("action.escalated", _) => format!(
            "Escalated ({})",
            text(&payload["escalation"]["severity"]).unwrap_or_default()
        ),
        ("test", _) => "Test notification from Interlock".to_owned(),
        (other, _) => other.to_owned(),
    };
    let mut facts = Vec::new();
    let mut fact = |label, value: Option<String>| {
        if let Some(v) = value {
            facts.push((label, v));
        }
    };
    fact("Team", text(&payload["team"]));
    fact("Category", text(&a["category"]));
    fact(
        "Amount",
        text(&a["amount"]).map(|amt| format!("{amt} {}", text(&a["currency"]).unwrap_or_default())),
    );
    fact("Deadline", when(&a["deadline"]));
    fact("Reason", text(&a["reason"]));
    fact("Error", text(&a["last_error"]));
    fact("Escalation", text(&payload["escalation"]["reason"]));
    fact("Card", text(&payload["escalation"]["card_id"]));
    fact("Message", text(&payload["message"]));
    Notice {
        headline,
        title: text(&a["title"]).unwrap_or_else(|| "Interlock".to_owned()),
        facts,
        link: text(&a["url"]),
    }
}
