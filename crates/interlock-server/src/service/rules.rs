//! Saving a team's rule set: a new version, audited with before and after, shared by the
//! API and the console.

use interlock_core::rules::{DocStyle, RuleSet};
use interlock_store::{AuditDraft, RulesVersion};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The rule set as the API shows it.
pub fn doc_json(rules: &RuleSet) -> Value {
    serde_json::to_value(rules.to_doc(DocStyle::Json)).unwrap_or_default()
}

/// Saves a new version (unless nothing changed), audited with before and after.
pub async fn save(
    state: &AppState,
    principal: &Principal,
    team_id: uuid::Uuid,
    expected: Option<u64>,
    rules: RuleSet,
    event: &str,
    extra: Value,
) -> ApiResult<RulesVersion> {
    let current = state.store.current_rules(team_id).await?;
    if let Some(v) = expected
        && v != current.version
    {
        return Err(ApiError::conflict(
            "rules_changed",
            format!(
                "you edited version {v} but the rules are at version {}; reload and retry",
                current.version
            ),
        ));
    }
    if rules.same_rules_as(&current.rules) {
        return Ok(current);
    }
    let mut data = json!({
        "from_version": current.version,
        "to_version": current.version + 1,
        "before": doc_json(&current.rules),
        "after": doc_json(&rules),
    });
    if let (Value::Object(d), Value::Object(e)) = (&mut data, extra) {
        d.extend(e);
    }
    let audit = AuditDraft {
        team_id: Some(team_id),
        actor: principal.actor.clone(),
        subject: Some(team_id.to_string()),
        event: event.to_owned(),
        data,
    };
    let now = state.clock.now();
    let saved = state
        .store
        .save_rules(
            team_id,
            current.version,
            rules,
            principal.actor.clone(),
            now,
            audit,
        )
        .await?;
    state.rules.put(team_id, saved.rules.clone());
    Ok(saved)
}

/// Rollback: saves an old version again as the newest.
pub async fn rollback(
    state: &AppState,
    principal: &Principal,
    team_id: uuid::Uuid,
    version: u64,
) -> ApiResult<RulesVersion> {
    let old = state
        .store
        .rules_version(team_id, version)
        .await?
        .ok_or_else(|| ApiError::not_found("rules version"))?;
    save(
        state,
        principal,
        team_id,
        None,
        old.rules,
        "rules.rolled_back",
        json!({"rolled_back_to": version}),
    )
    .await
}
