//! Interlock's pure domain: what an action is, which autonomy level it gets and why, when a
//! time bomb fires and reminds, and which state changes are allowed.
//!
//! Nothing here performs I/O: every function is a pure function of its inputs, and time
//! comes in through the [`Clock`] trait, so the same code runs in the server, in the
//! offline CLI (`interlock rules decide`) and in tests with a manual clock.

mod category;
mod clock;
mod decide;
mod money;
pub mod payload;
pub mod rules;
mod schedule;
mod span;
mod state;

pub use category::{Category, Level, ParseNameError};
pub use clock::{Clock, ManualClock, ScaledClock, SystemClock};
pub use decide::{DecideError, DecidingRule, Decision, Proposal, TimeBombPlan};
pub use money::{AmountError, Currency, Money, parse_amount};
pub use schedule::{Reminder, ReminderKind, Schedule, latest_due_reminder, offset_text};
pub use span::{Span, SpanError};
pub use state::{ActionState, Status, Transition, TransitionError};
