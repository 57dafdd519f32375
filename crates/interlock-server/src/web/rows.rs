//! An action as the console shows it: words for people, the countdown of a time bomb, and
//! which decisions the viewer may take on it right now.

use chrono::{DateTime, TimeDelta, Utc};
use interlock_core::Status;
use interlock_core::{ReminderKind, offset_text};
use interlock_store::ActionRecord;

use crate::auth::{Permission, Principal};
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct ActionRow {
    pub id: String,
    pub title: String,
    pub team: String,
    pub category: &'static str,
    pub level: &'static str,
    pub level_text: &'static str,
    pub status: &'static str,
    pub status_text: String,
    pub version: u64,
    pub explanation: String,
    pub amount: Option<String>,
    pub proposed_by: String,
    pub created_at: String,
    pub countdown: Option<Countdown>,
    pub may_approve: bool,
    pub may_hold: bool,
    pub may_reject: bool,
    pub may_dismiss: bool,
}

/// A time bomb's remaining time. The script counts down from `remaining_ms` at `rate`
/// Interlock milliseconds per real millisecond (a scaled clock runs faster).
#[derive(Debug, Clone)]
pub struct Countdown {
    pub deadline: String,
    pub remaining_ms: i64,
    pub rate: String,
    pub text: String,
    pub next_reminder: Option<String>,
}

pub fn time_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// "23h 59m 58s" for people; never negative.
pub fn remaining_text(delta: TimeDelta) -> String {
    if delta <= TimeDelta::zero() {
        "due now".to_owned()
    } else {
        offset_text(delta)
            .replace('h', "h ")
            .replace('m', "m ")
            .trim()
            .to_owned()
    }
}

pub fn reminder_name(kind: ReminderKind) -> &'static str {
    match kind {
        ReminderKind::Half => "halfway reminder",
        ReminderKind::Ninety => "90% reminder",
        ReminderKind::FinalWarning => "final warning",
    }
}

impl ActionRow {
    pub fn new(state: &AppState, principal: &Principal, a: &ActionRecord, team: String) -> Self {
        let now = state.clock.now();
        let can_decide = principal.can(Permission::DecideActions, Some(a.team_id));
        let own = a.proposed_by == principal.actor;
        let countdown = match (a.status, a.deadline) {
            (Status::Armed, Some(deadline)) => Some(countdown(state, a, deadline, now)),
            _ => None,
        };
        ActionRow {
            id: a.id.to_string(),
            title: a.title.clone(),
            team,
            category: a.category.as_str(),
            level: a.level.as_str(),
            level_text: a.level.label(),
            status: a.status.as_str(),
            status_text: a.status.as_str().replace('_', " "),
            version: a.version,
            explanation: a.decision["explanation"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            amount: a.amount.map(|m| m.to_string()),
            proposed_by: format!("{} {}", a.proposed_by.kind.as_str(), a.proposed_by.id),
            created_at: time_text(a.created_at),
            countdown,
            may_approve: can_decide
                && !own
                && matches!(a.status, Status::Armed | Status::AwaitingApproval),
            may_hold: can_decide && a.status == Status::Armed,
            may_reject: can_decide && matches!(a.status, Status::Armed | Status::AwaitingApproval),
            may_dismiss: can_decide && a.status == Status::Advisory,
        }
    }

    pub fn pending(&self) -> bool {
        self.may_approve || self.may_hold || self.may_reject || self.may_dismiss
    }
}

fn countdown(
    state: &AppState,
    a: &ActionRecord,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Countdown {
    let remaining = deadline - now;
    let rate = state
        .clock
        .elapsed_during(std::time::Duration::from_secs(1))
        .num_milliseconds() as f64
        / 1000.0;
    let next_reminder = a
        .reminders
        .iter()
        .find(|r| r.at > now && a.last_reminder_at.is_none_or(|sent| r.at > sent))
        .map(|r| {
            format!(
                "{} in {} ({})",
                reminder_name(r.kind),
                remaining_text(r.at - now),
                time_text(r.at)
            )
        });
    Countdown {
        deadline: deadline.to_rfc3339(),
        remaining_ms: remaining.num_milliseconds().max(0),
        rate: format!("{rate}"),
        text: remaining_text(remaining),
        next_reminder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_time_reads_as_hours_minutes_seconds() {
        assert_eq!(remaining_text(TimeDelta::seconds(86_398)), "23h 59m 58s");
        assert_eq!(remaining_text(TimeDelta::minutes(54)), "54m");
        assert_eq!(remaining_text(TimeDelta::seconds(-5)), "due now");
    }
}

/// An audit entry as a line of the timeline or the audit page.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub at: String,
    pub team: String,
    pub actor: String,
    pub subject: String,
    pub event: String,
    pub summary: String,
}

/// The longest data summary shown on a line; the export has everything.
const SUMMARY_CHARS: usize = 300;

/// Names people by their email rather than their id, looking each up once per page.
#[derive(Debug, Default)]
pub struct ActorNames {
    known: std::collections::HashMap<String, String>,
}

impl ActorNames {
    pub async fn name(&mut self, state: &AppState, actor: &interlock_store::Actor) -> String {
        use interlock_store::ActorKind;
        if actor.kind != ActorKind::Member {
            return format!("{} {}", actor.kind.as_str(), actor.id);
        }
        if let Some(name) = self.known.get(&actor.id) {
            return name.clone();
        }
        let email = match actor.id.parse() {
            Ok(id) => state.store.user(id).await.ok().flatten().map(|u| u.email),
            Err(_) => None,
        };
        let name = email.unwrap_or_else(|| format!("member {}", actor.id));
        self.known.insert(actor.id.clone(), name.clone());
        name
    }

    pub async fn audit_row(
        &mut self,
        state: &AppState,
        e: &interlock_store::AuditEntry,
    ) -> crate::error::ApiResult<AuditRow> {
        let team = match e.team_id {
            Some(t) => state.teams.slug(&state.store, t).await?,
            None => String::new(),
        };
        let mut summary: String = e.data.chars().take(SUMMARY_CHARS).collect();
        if e.data.chars().count() > SUMMARY_CHARS {
            summary.push('…');
        }
        if summary == "{}" {
            summary.clear();
        }
        Ok(AuditRow {
            at: time_text(e.at),
            team,
            actor: self.name(state, &e.actor).await,
            subject: e.subject.clone().unwrap_or_default(),
            event: e.event.clone(),
            summary,
        })
    }
}
