//! The listing queries (actions, audit entries), built the same way for every database:
//! newest first, paged by an opaque cursor (the last id shown).

use interlock_store::{ActionFilter, AuditFilter, Page, Result, StoreError};
use sqlx::{Database, QueryBuilder};

use crate::rows::ms;

/// Caps a page size: at least one row, at most 500.
pub fn page_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 500))
}

/// Narrows a listing to the teams a caller may see (`None`: every team) and to one team.
/// Returns false when the caller sees no team at all, so nothing can match.
pub fn push_team_scope<DB: Database>(
    q: &mut QueryBuilder<DB>,
    visible: Option<&[uuid::Uuid]>,
    team: Option<uuid::Uuid>,
) -> bool
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    if let Some(teams) = visible {
        if teams.is_empty() {
            return false;
        }
        q.push(" AND team_id IN (");
        let mut s = q.separated(", ");
        for t in teams {
            s.push_bind(t.to_string());
        }
        q.push(")");
    }
    if let Some(t) = team {
        q.push(" AND team_id = ").push_bind(t.to_string());
    }
    true
}

/// `SELECT * FROM actions …` for one page (one row more than the page, to tell whether
/// another follows); `None` when nothing can match.
pub fn actions_query<DB: Database>(
    f: &ActionFilter,
    cursor: Option<&str>,
    limit: u32,
) -> Option<QueryBuilder<DB>>
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new("SELECT * FROM actions WHERE 1 = 1");
    if !push_team_scope(&mut q, f.visible_teams.as_deref(), f.team_id) {
        return None;
    }
    if !f.statuses.is_empty() {
        q.push(" AND status IN (");
        let mut s = q.separated(", ");
        for st in &f.statuses {
            s.push_bind(st.as_str().to_owned());
        }
        q.push(")");
    }
    if let Some(c) = f.category {
        q.push(" AND category = ").push_bind(c.as_str().to_owned());
    }
    if let Some(l) = f.level {
        q.push(" AND level = ").push_bind(l.as_str().to_owned());
    }
    if let Some(by) = &f.proposed_by {
        q.push(" AND proposed_by_kind = ")
            .push_bind(by.kind.as_str().to_owned());
        q.push(" AND proposed_by_id = ").push_bind(by.id.clone());
    }
    if let Some(p) = f.plan_id {
        q.push(" AND plan_id = ").push_bind(p.to_string());
    }
    if let Some(card) = &f.card_id {
        q.push(" AND card_id = ").push_bind(card.clone());
    }
    if let Some(cursor) = cursor {
        q.push(" AND id < ").push_bind(cursor.to_owned());
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(page_limit(limit) + 1);
    Some(q)
}

/// `SELECT * FROM audit …` for one page, like [`actions_query`]; a cursor that is not
/// one this store handed out is `NotFound`.
pub fn audit_query<DB: Database>(
    f: &AuditFilter,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Option<QueryBuilder<DB>>>
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new("SELECT * FROM audit WHERE 1 = 1");
    if !push_team_scope(&mut q, f.visible_teams.as_deref(), f.team_id) {
        return Ok(None);
    }
    if let Some(subject) = &f.subject {
        q.push(" AND subject = ").push_bind(subject.clone());
    }
    if let Some(actor) = &f.actor_id {
        q.push(" AND actor_id = ").push_bind(actor.clone());
    }
    if let Some(event) = &f.event {
        q.push(" AND event = ").push_bind(event.clone());
    }
    if let Some(since) = f.since {
        q.push(" AND at >= ").push_bind(ms(since));
    }
    if let Some(until) = f.until {
        q.push(" AND at < ").push_bind(ms(until));
    }
    if let Some(cursor) = cursor {
        let before: i64 = cursor
            .parse()
            .map_err(|_| StoreError::NotFound("audit cursor"))?;
        q.push(" AND id < ").push_bind(before);
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(page_limit(limit) + 1);
    Ok(Some(q))
}

/// Cuts the extra row a listing query fetched, and names where the next page starts.
pub fn page<T>(mut items: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Page<T> {
    let limit = page_limit(limit) as usize;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor_of)
    } else {
        None
    };
    Page { items, next_cursor }
}

/// An empty page, for a caller who sees no team.
pub fn empty<T>() -> Page<T> {
    Page {
        items: Vec::new(),
        next_cursor: None,
    }
}
