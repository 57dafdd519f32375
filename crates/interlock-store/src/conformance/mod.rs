//! The conformance suite every backend passes (River's driver tests, atuin's `db_story`).
//!
//! Each test is an `async fn(Arc<dyn Store>)` taking a fresh, migrated store. A backend
//! runs the whole suite with one line in its `tests/`:
//!
//! ```ignore
//! interlock_store::conformance_tests!(async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = MyStore::open(dir.path()).await.unwrap();
//!     store.migrate().await.unwrap();
//!     // The second element (here the temporary directory) lives until the test ends.
//!     (Arc::new(store) as Arc<dyn Store>, dir)
//! });
//! ```
//!
//! The backend's test crate needs `tokio` (with `macros` and `rt-multi-thread`) as a
//! dev-dependency. A new test function must also be listed in [`conformance_tests!`].
//! Tests use fixed instants (no clock reads) and no sleeps.

mod actions;
mod audit;
mod cards;
mod changes;
pub mod fixtures;
mod jobs;
mod listing;
mod outbox;
mod people;
mod teams;

use std::any::Any;
use std::sync::Arc;

pub use actions::*;
pub use audit::*;
pub use cards::*;
pub use changes::*;
pub use jobs::*;
pub use listing::*;
pub use outbox::*;
pub use people::*;
pub use teams::*;

use crate::Store;

/// What a backend's factory returns: the store, optionally with something that must live
/// as long as the test (a temporary directory, a throwaway schema).
pub trait TestStore: Send + 'static {
    fn into_parts(self) -> (Arc<dyn Store>, Box<dyn Any + Send>);
}

impl TestStore for Arc<dyn Store> {
    fn into_parts(self) -> (Arc<dyn Store>, Box<dyn Any + Send>) {
        (self, Box::new(()))
    }
}

impl<G: Send + 'static> TestStore for (Arc<dyn Store>, G) {
    fn into_parts(self) -> (Arc<dyn Store>, Box<dyn Any + Send>) {
        (self.0, Box::new(self.1))
    }
}

/// Expands to one `#[tokio::test]` per conformance test; `$make` is an `async` block
/// evaluated afresh for each test, returning a migrated store (see [`TestStore`]).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::__conformance_each!($make;
            // teams and rules
            a_new_team_is_found_by_id_and_by_slug_and_listed,
            a_second_team_with_the_same_slug_is_a_duplicate,
            an_unknown_team_has_no_rules,
            saving_rules_numbers_versions_and_keeps_the_old_ones,
            saving_rules_from_a_stale_version_is_refused_and_writes_nothing,
            keys_are_created_found_listed_touched_and_revoked,
            migrating_again_changes_nothing,
            connectors_are_set_replaced_and_listed_per_team_and_category,
            the_first_clock_agreement_is_kept,
            // proposals and plans
            every_field_of_an_action_reads_back_as_written,
            a_batch_of_proposals_is_stored_with_its_jobs_audit_and_deliveries,
            an_idempotency_key_used_in_an_earlier_batch_returns_the_first_action_and_writes_nothing,
            an_idempotency_key_repeated_within_one_batch_returns_the_first_action,
            idempotency_keys_belong_to_one_team,
            many_actions_are_read_at_once_by_id_and_unknown_ids_are_left_out,
            a_plan_is_stored_with_its_steps_in_step_order,
            // changes
            an_applied_change_updates_fields_bumps_the_version_and_writes_its_consequences,
            a_change_from_a_stale_version_is_a_conflict_that_writes_nothing,
            two_changes_joined_with_then_take_effect_together_or_not_at_all,
            a_change_to_an_unknown_action_is_not_found,
            of_twenty_racing_changes_to_one_action_exactly_one_wins,
            a_change_that_stops_the_timer_ends_the_pending_timer_job,
            a_deadline_can_hand_its_claimed_timer_on_to_the_execution,
            a_reminder_for_an_armed_action_is_recorded_and_moves_its_timer,
            a_reminder_for_an_action_that_left_armed_is_not_recorded_and_ends_the_timer,
            a_failed_attempt_is_recorded_and_its_job_is_ready_again_at_the_retry_time,
            a_change_answers_with_the_action_exactly_as_stored,
            // jobs
            only_due_jobs_are_claimed_oldest_first_up_to_the_limit,
            concurrent_claimers_never_get_the_same_job,
            only_the_worker_holding_a_job_may_finish_or_reschedule_it,
            jobs_whose_lease_ran_out_are_rescued_and_can_be_claimed_again,
            a_restarted_worker_gets_back_only_its_own_claims,
            the_next_job_due_is_the_earliest_ready_one,
            // listing
            listing_actions_narrows_by_every_filter,
            paging_through_actions_visits_every_action_once_newest_first,
            // people and sessions
            a_person_is_stored_with_their_teams_and_found_by_id_or_any_case_of_email,
            a_second_person_with_the_same_email_is_a_duplicate_and_writes_nothing,
            a_role_change_replaces_role_and_teams_and_is_audited,
            failed_logins_count_up_lock_and_a_success_resets_them,
            a_new_password_replaces_the_old_and_clears_a_lock,
            removing_a_person_revokes_their_keys_and_ends_their_sessions,
            sessions_are_found_deleted_and_purged_when_expired,
            // audit
            every_audit_entry_written_verifies_as_an_unbroken_chain,
            concurrent_first_appends_to_new_chains_keep_each_chain_unbroken,
            an_audit_entry_keeps_its_data_text_and_its_chain_links,
            searching_the_audit_trail_narrows_by_every_filter,
            paging_through_the_audit_trail_visits_every_entry_once_newest_first,
            // notification channels and the outbox
            channels_are_created_listed_per_team_and_deleted_with_audit,
            a_delivery_with_somewhere_to_go_schedules_its_notify_job_at_once,
            a_callback_delivery_keeps_its_url,
            a_send_has_one_row_per_delivery_and_target_that_later_outcomes_replace,
            // cards
            an_action_naming_a_card_opens_it_and_lists_it_for_its_team_only,
            a_plan_naming_a_card_is_found_by_it,
            a_note_is_added_once_per_action_and_audited_once,
            escalations_raise_a_cards_priority_and_never_lower_it,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_each {
    ($make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let (store, _keep) = $crate::conformance::TestStore::into_parts($make.await);
                $crate::conformance::$name(store).await;
            }
        )*
    };
}
