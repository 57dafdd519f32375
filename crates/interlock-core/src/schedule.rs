use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::decide::TimeBombPlan;

/// The reminders of a time bomb (SPEC §7), by their wire names. The "timer started"
/// notice at arming is not one of them: it is sent with the arming itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    Half,
    Ninety,
    FinalWarning,
}

impl ReminderKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ReminderKind::Half => "half",
            ReminderKind::Ninety => "ninety",
            ReminderKind::FinalWarning => "final_warning",
        }
    }

    /// When two reminders fall at the same instant only one is sent: the more urgent.
    const fn urgency(self) -> u8 {
        match self {
            ReminderKind::Half => 0,
            ReminderKind::Ninety => 1,
            ReminderKind::FinalWarning => 2,
        }
    }
}

impl std::str::FromStr for ReminderKind {
    type Err = crate::ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            ReminderKind::Half,
            ReminderKind::Ninety,
            ReminderKind::FinalWarning,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| crate::ParseNameError {
            kind: "reminder",
            name: s.to_owned(),
            expected: "half, ninety, final_warning".to_owned(),
        })
    }
}

/// One reminder at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reminder {
    pub kind: ReminderKind,
    pub at: DateTime<Utc>,
}

/// A time bomb's deadline and its reminders, strictly between arming and deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub armed_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub reminders: Vec<Reminder>,
}

impl Schedule {
    pub(crate) fn new(plan: &TimeBombPlan, armed_at: DateTime<Utc>) -> Schedule {
        Schedule {
            armed_at,
            deadline: armed_at + plan.duration.to_chrono(),
            reminders: reminder_offsets(plan)
                .into_iter()
                .map(|(kind, after)| Reminder {
                    kind,
                    at: armed_at + after,
                })
                .collect(),
        }
    }
}

pub(crate) fn reminder_offsets(plan: &TimeBombPlan) -> Vec<(ReminderKind, TimeDelta)> {
    let total_ms = i64::from(plan.duration.seconds()) * 1000;
    let candidates = [
        (plan.remind_at_50, ReminderKind::Half, total_ms / 2),
        (plan.remind_at_90, ReminderKind::Ninety, total_ms * 9 / 10),
        (
            plan.final_warning.is_some(),
            ReminderKind::FinalWarning,
            total_ms
                - plan
                    .final_warning
                    .map_or(0, |lead| i64::from(lead.seconds()) * 1000),
        ),
    ];
    let mut offsets: Vec<(ReminderKind, i64)> = candidates
        .into_iter()
        // At or before arming, or at the deadline itself, a reminder says nothing new.
        .filter(|&(enabled, _, ms)| enabled && ms > 0 && ms < total_ms)
        .map(|(_, kind, ms)| (kind, ms))
        .collect();
    offsets.sort_by_key(|&(kind, ms)| (ms, std::cmp::Reverse(kind.urgency())));
    offsets.dedup_by_key(|&mut (_, ms)| ms);
    offsets
        .into_iter()
        .map(|(kind, ms)| (kind, TimeDelta::milliseconds(ms)))
        .collect()
}

/// After downtime, which reminder to send now: only the latest one already due that was
/// not sent yet, and only while the countdown still runs (SPEC §7: no late burst).
/// `sent_up_to` is the instant of the last reminder sent, if any.
pub fn latest_due_reminder(
    schedule: &Schedule,
    sent_up_to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Reminder> {
    if now >= schedule.deadline {
        return None;
    }
    schedule
        .reminders
        .iter()
        .rev()
        .find(|r| r.at <= now)
        .filter(|r| sent_up_to.is_none_or(|sent| r.at > sent))
        .copied()
}

/// A time offset written compactly for people and JSON: "2h", "3h36m", "54m", "1m30s".
pub fn offset_text(delta: TimeDelta) -> String {
    let total = delta.num_seconds();
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

    fn plan(hours: u32) -> TimeBombPlan {
        TimeBombPlan {
            duration: Span::from_hours(hours),
            remind_at_50: true,
            remind_at_90: true,
            final_warning: Some(Span::from_hours(1)),
        }
    }

    fn t0() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn kinds_and_offsets(p: &TimeBombPlan) -> Vec<(ReminderKind, String)> {
        p.reminder_offsets()
            .into_iter()
            .map(|(k, d)| (k, offset_text(d)))
            .collect()
    }

    #[test]
    fn a_four_hour_bomb_reminds_at_half_then_final_warning_then_ninety() {
        assert_eq!(
            kinds_and_offsets(&plan(4)),
            vec![
                (ReminderKind::Half, "2h".to_owned()),
                (ReminderKind::FinalWarning, "3h".to_owned()),
                (ReminderKind::Ninety, "3h36m".to_owned()),
            ]
        );
    }

    #[test]
    fn a_one_hour_bomb_drops_the_final_warning_that_falls_at_arming() {
        assert_eq!(
            kinds_and_offsets(&plan(1)),
            vec![
                (ReminderKind::Half, "30m".to_owned()),
                (ReminderKind::Ninety, "54m".to_owned())
            ]
        );
    }

    #[test]
    fn reminders_at_the_same_instant_are_sent_once_as_the_more_urgent() {
        // 10 h: 90 % is at 9 h, exactly when the 1 h final warning falls.
        let offsets = kinds_and_offsets(&plan(10));
        assert_eq!(
            offsets,
            vec![
                (ReminderKind::Half, "5h".to_owned()),
                (ReminderKind::FinalWarning, "9h".to_owned())
            ]
        );
    }

    #[test]
    fn disabled_reminders_are_left_out() {
        let p = TimeBombPlan {
            remind_at_50: false,
            final_warning: None,
            ..plan(4)
        };
        assert_eq!(
            kinds_and_offsets(&p),
            vec![(ReminderKind::Ninety, "3h36m".to_owned())]
        );
    }

    #[test]
    fn the_schedule_places_the_deadline_one_duration_after_arming() {
        let s = plan(24).schedule(t0());
        assert_eq!(s.deadline, t0() + TimeDelta::hours(24));
        assert_eq!(s.reminders[0].at, t0() + TimeDelta::hours(12));
    }

    #[test]
    fn after_downtime_only_the_latest_missed_reminder_is_sent() {
        let s = plan(4).schedule(t0());
        let now = t0() + TimeDelta::minutes(3 * 60 + 40);
        let r = latest_due_reminder(&s, None, now).unwrap();
        assert_eq!(r.kind, ReminderKind::Ninety);
        // Once it is sent, nothing else is due until the deadline.
        assert_eq!(latest_due_reminder(&s, Some(r.at), now), None);
    }

    #[test]
    fn no_reminder_is_sent_once_the_deadline_has_passed() {
        let s = plan(4).schedule(t0());
        assert_eq!(
            latest_due_reminder(&s, None, t0() + TimeDelta::hours(5)),
            None
        );
    }

    #[test]
    fn nothing_is_due_before_the_first_reminder() {
        let s = plan(4).schedule(t0());
        assert_eq!(
            latest_due_reminder(&s, None, t0() + TimeDelta::minutes(5)),
            None
        );
    }
}
