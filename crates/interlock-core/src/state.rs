//! The life of an action (SPEC §6) as pure transition functions. The store applies a
//! [`Transition`] with one conditional update on `(id, status, version)`, so of two racing
//! transitions exactly one wins.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::category::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A time bomb counting down.
    Armed,
    AwaitingApproval,
    /// Approved or due, but waiting for earlier plan steps to execute.
    Queued,
    /// Handed to its connector; attempts and retries happen in this state.
    Executing,
    Executed,
    /// Execution failed after the automatic retries; a person may retry.
    Failed,
    Rejected,
    Cancelled,
    /// A recommendation only; never executed.
    Advisory,
    Dismissed,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Armed,
        Status::AwaitingApproval,
        Status::Queued,
        Status::Executing,
        Status::Executed,
        Status::Failed,
        Status::Rejected,
        Status::Cancelled,
        Status::Advisory,
        Status::Dismissed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Armed => "armed",
            Status::AwaitingApproval => "awaiting_approval",
            Status::Queued => "queued",
            Status::Executing => "executing",
            Status::Executed => "executed",
            Status::Failed => "failed",
            Status::Rejected => "rejected",
            Status::Cancelled => "cancelled",
            Status::Advisory => "advisory",
            Status::Dismissed => "dismissed",
        }
    }

    /// No transition leaves a terminal status.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Executed | Status::Rejected | Status::Cancelled | Status::Dismissed
        )
    }

    /// A draft not yet decided by anyone: it may still be approved, rejected or withdrawn.
    pub const fn is_open_draft(self) -> bool {
        matches!(
            self,
            Status::Armed | Status::AwaitingApproval | Status::Queued
        )
    }

    /// The status a newly proposed action starts in.
    pub const fn initial(level: Level, dependencies_met: bool) -> Status {
        match level {
            Level::Autonomous if dependencies_met => Status::Executing,
            Level::Autonomous => Status::Queued,
            Level::TimeBomb => Status::Armed,
            Level::HumanApproval => Status::AwaitingApproval,
            Level::Advisory => Status::Advisory,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = crate::ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| crate::ParseNameError {
                kind: "status",
                name: s.to_owned(),
                expected: Status::ALL.map(Status::as_str).join(", "),
            })
    }
}

/// Where an action is now: its status and the version counter that every change bumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionState {
    pub status: Status,
    pub version: u64,
}

/// An allowed change, to be applied with a conditional update on `from` and `from_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// What happened, as an audit event name: `approve`, `deadline`, `execution_succeeded`…
    pub event: &'static str,
    pub from: Status,
    pub to: Status,
    pub from_version: u64,
    pub to_version: u64,
}

impl Transition {
    pub fn state(&self) -> ActionState {
        ActionState {
            status: self.to,
            version: self.to_version,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("cannot {event} an action that is {status}")]
    NotAllowed { event: &'static str, status: Status },
    #[error("advisory actions are recommendations only and are never executed by Interlock")]
    AdvisoryNeverExecutes,
    #[error(
        "the action changed since you saw it: you saw version {expected}, it is now at version {current}"
    )]
    StaleVersion { expected: u64, current: u64 },
}

impl TransitionError {
    pub const fn code(&self) -> &'static str {
        match self {
            TransitionError::NotAllowed { .. } => "invalid_transition",
            TransitionError::AdvisoryNeverExecutes => "advisory_not_executable",
            TransitionError::StaleVersion { .. } => "version_conflict",
        }
    }
}

impl ActionState {
    fn to(self, event: &'static str, to: Status) -> Transition {
        Transition {
            event,
            from: self.status,
            to,
            from_version: self.version,
            to_version: self.version + 1,
        }
    }

    fn refuse(self, event: &'static str) -> TransitionError {
        TransitionError::NotAllowed {
            event,
            status: self.status,
        }
    }

    fn check_version(self, expected: u64) -> Result<(), TransitionError> {
        if expected == self.version {
            Ok(())
        } else {
            Err(TransitionError::StaleVersion {
                expected,
                current: self.version,
            })
        }
    }

    /// Where an approved or due action goes: straight to execution, or to the queue while
    /// earlier plan steps have not executed yet.
    const fn release_status(dependencies_met: bool) -> Status {
        if dependencies_met {
            Status::Executing
        } else {
            Status::Queued
        }
    }

    /// A person approves (possibly with edits): execute now, without waiting for a timer.
    pub fn approve(
        self,
        expected_version: u64,
        dependencies_met: bool,
    ) -> Result<Transition, TransitionError> {
        match self.status {
            Status::Advisory | Status::Dismissed => Err(TransitionError::AdvisoryNeverExecutes),
            Status::Armed | Status::AwaitingApproval => {
                self.check_version(expected_version)?;
                Ok(self.to("approve", Self::release_status(dependencies_met)))
            }
            _ => Err(self.refuse("approve")),
        }
    }

    /// A person stops a countdown for good; the action now needs approval.
    pub fn hold(self, expected_version: u64) -> Result<Transition, TransitionError> {
        match self.status {
            Status::Armed => {
                self.check_version(expected_version)?;
                Ok(self.to("hold", Status::AwaitingApproval))
            }
            _ => Err(self.refuse("hold")),
        }
    }

    /// A person cancels the action for good, with a reason for the agent.
    pub fn reject(self, expected_version: u64) -> Result<Transition, TransitionError> {
        match self.status {
            s if s.is_open_draft() => {
                self.check_version(expected_version)?;
                Ok(self.to("reject", Status::Rejected))
            }
            _ => Err(self.refuse("reject")),
        }
    }

    /// The proposing agent takes back an undecided draft.
    pub fn withdraw(self) -> Result<Transition, TransitionError> {
        match self.status {
            s if s.is_open_draft() => Ok(self.to("withdraw", Status::Cancelled)),
            _ => Err(self.refuse("withdraw")),
        }
    }

    /// A time bomb's countdown ran out.
    pub fn deadline(self, dependencies_met: bool) -> Result<Transition, TransitionError> {
        match self.status {
            Status::Armed => Ok(self.to("deadline", Self::release_status(dependencies_met))),
            _ => Err(self.refuse("fire")),
        }
    }

    /// Every earlier plan step has executed: a queued step may run.
    pub fn dependencies_met(self) -> Result<Transition, TransitionError> {
        match self.status {
            Status::Queued => Ok(self.to("dependencies_met", Status::Executing)),
            _ => Err(self.refuse("release")),
        }
    }

    /// An earlier plan step ended rejected, cancelled or failed: this step is cancelled.
    pub fn dependency_failed(self) -> Result<Transition, TransitionError> {
        match self.status {
            s if s.is_open_draft() => Ok(self.to("dependency_failed", Status::Cancelled)),
            _ => Err(self.refuse("cancel")),
        }
    }

    /// The executor may only run an action that is executing; this is its guard.
    pub fn start_execution(self) -> Result<(), TransitionError> {
        match self.status {
            Status::Executing => Ok(()),
            Status::Advisory | Status::Dismissed => Err(TransitionError::AdvisoryNeverExecutes),
            _ => Err(self.refuse("execute")),
        }
    }

    pub fn execution_succeeded(self) -> Result<Transition, TransitionError> {
        match self.status {
            Status::Executing => Ok(self.to("execution_succeeded", Status::Executed)),
            _ => Err(self.refuse("complete")),
        }
    }

    /// The connector failed for good (after automatic retries, or at once for a 4xx).
    pub fn execution_failed(self) -> Result<Transition, TransitionError> {
        match self.status {
            Status::Executing => Ok(self.to("execution_failed", Status::Failed)),
            _ => Err(self.refuse("fail")),
        }
    }

    /// A person re-runs a failed execution.
    pub fn retry(self) -> Result<Transition, TransitionError> {
        match self.status {
            Status::Failed => Ok(self.to("retry", Status::Executing)),
            _ => Err(self.refuse("retry")),
        }
    }

    /// A person sets an advisory recommendation aside (dismissed, or done by hand).
    pub fn dismiss(self) -> Result<Transition, TransitionError> {
        match self.status {
            Status::Advisory => Ok(self.to("dismiss", Status::Dismissed)),
            _ => Err(self.refuse("dismiss")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(status: Status) -> ActionState {
        ActionState { status, version: 3 }
    }

    #[test]
    fn approving_an_armed_time_bomb_executes_it_at_once() {
        let t = at(Status::Armed).approve(3, true).unwrap();
        assert_eq!(
            (t.from, t.to, t.to_version),
            (Status::Armed, Status::Executing, 4)
        );
    }

    #[test]
    fn approving_a_step_whose_predecessors_wait_queues_it() {
        assert_eq!(
            at(Status::AwaitingApproval).approve(3, false).unwrap().to,
            Status::Queued
        );
    }

    #[test]
    fn a_stale_expected_version_is_refused() {
        assert_eq!(
            at(Status::Armed).approve(2, true).unwrap_err(),
            TransitionError::StaleVersion {
                expected: 2,
                current: 3
            }
        );
    }

    #[test]
    fn approving_an_advisory_action_is_refused_whatever_the_version() {
        assert_eq!(
            at(Status::Advisory).approve(3, true).unwrap_err().code(),
            "advisory_not_executable"
        );
        assert_eq!(
            at(Status::Advisory).approve(0, true).unwrap_err().code(),
            "advisory_not_executable"
        );
        assert_eq!(
            at(Status::Advisory).start_execution().unwrap_err().code(),
            "advisory_not_executable"
        );
    }

    #[test]
    fn hold_turns_a_countdown_into_an_approval_wait_and_only_a_countdown() {
        assert_eq!(
            at(Status::Armed).hold(3).unwrap().to,
            Status::AwaitingApproval
        );
        assert_eq!(
            at(Status::AwaitingApproval).hold(3).unwrap_err().code(),
            "invalid_transition"
        );
    }

    #[test]
    fn a_held_action_no_longer_fires_at_its_deadline() {
        let held = at(Status::Armed).hold(3).unwrap().state();
        assert!(held.deadline(true).is_err());
    }

    #[test]
    fn failed_executions_can_be_retried_and_executed_ones_cannot() {
        assert_eq!(at(Status::Failed).retry().unwrap().to, Status::Executing);
        assert!(at(Status::Executed).retry().is_err());
    }

    #[test]
    fn terminal_statuses_refuse_every_command() {
        for s in Status::ALL.into_iter().filter(|s| s.is_terminal()) {
            let a = at(s);
            assert!(a.approve(3, true).is_err());
            assert!(a.hold(3).is_err());
            assert!(a.reject(3).is_err());
            assert!(a.withdraw().is_err());
            assert!(a.deadline(true).is_err());
            assert!(a.retry().is_err());
            assert!(a.dismiss().is_err());
            assert!(a.execution_succeeded().is_err());
        }
    }

    #[test]
    fn the_initial_status_follows_the_level() {
        assert_eq!(Status::initial(Level::Autonomous, true), Status::Executing);
        assert_eq!(Status::initial(Level::Autonomous, false), Status::Queued);
        assert_eq!(Status::initial(Level::TimeBomb, true), Status::Armed);
        assert_eq!(
            Status::initial(Level::HumanApproval, true),
            Status::AwaitingApproval
        );
        assert_eq!(Status::initial(Level::Advisory, true), Status::Advisory);
    }
}
