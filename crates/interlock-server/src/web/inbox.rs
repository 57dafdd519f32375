//! `/inbox`: what waits for people in their teams — time bombs counting down, actions
//! awaiting approval, advisory recommendations — with filters, decisions and batch
//! approval. `/inbox/list` is the same list alone, which the page's script reloads when
//! the live event stream says something changed.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use interlock_core::{Category, Level, Status};
use interlock_store::ActionFilter;
use serde::Deserialize;

use super::decide::done_notice;
use super::guard::{Console, Nav, failure};
use super::rows::ActionRow;
use super::{page, url_escape};
use crate::auth::Permission;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// At most this many pending actions are shown; filters narrow the rest.
const INBOX_LIMIT: u32 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    pub team: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub level: String,
    /// What the previous decision did, for the notice at the top.
    #[serde(default)]
    pub done: String,
    #[serde(default)]
    pub count: u32,
    #[serde(default)]
    pub conflicts: u32,
}

#[derive(Debug)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices(options: impl IntoIterator<Item = (String, String)>, current: &str) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == current,
            value,
            label,
        })
        .collect()
}

#[derive(askama::Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    nav: Nav,
    teams: Vec<Choice>,
    categories: Vec<Choice>,
    levels: Vec<Choice>,
    notice: Option<String>,
    list: InboxList,
}

#[derive(askama::Template)]
#[template(path = "inbox_list.html")]
struct InboxList {
    csrf_token: String,
    /// The query string of the filters, for the refresh URL and `return_to`.
    query: String,
    time_bombs: Vec<ActionRow>,
    approvals: Vec<ActionRow>,
    advisories: Vec<ActionRow>,
    can_batch: bool,
}

fn notice(q: &InboxQuery) -> Option<String> {
    let plural = |n: u32| if n == 1 { "action" } else { "actions" };
    let text = match q.done.as_str() {
        // A batch approves several: say how many.
        "approved" => format!("Approved {} {}.", q.count, plural(q.count)),
        other => done_notice(other)?.to_owned(),
    };
    Some(if q.conflicts > 0 {
        format!(
            "{text} {} could not be approved: changed since you loaded the page, or not yours to approve.",
            q.conflicts
        )
    } else {
        text
    })
}

async fn load_list(state: &AppState, console: &Console, q: &InboxQuery) -> ApiResult<InboxList> {
    let principal = &console.principal;
    let mut filter = ActionFilter {
        visible_teams: principal.visible_teams(),
        statuses: vec![Status::Armed, Status::AwaitingApproval, Status::Advisory],
        ..ActionFilter::default()
    };
    if !q.team.is_empty() {
        let team = state
            .teams
            .by_slug(&state.store, &q.team)
            .await?
            .filter(|t| principal.sees_team(t.id))
            .ok_or_else(|| ApiError::not_found("team"))?;
        filter.team_id = Some(team.id);
    }
    if !q.category.is_empty() {
        filter.category = Some(
            q.category
                .parse::<Category>()
                .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?,
        );
    }
    if !q.level.is_empty() {
        filter.level = Some(
            q.level
                .parse::<Level>()
                .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?,
        );
    }
    let page = state.store.list_actions(&filter, None, INBOX_LIMIT).await?;
    let mut rows = Vec::with_capacity(page.items.len());
    for a in &page.items {
        let team = state.teams.slug(&state.store, a.team_id).await?;
        rows.push(ActionRow::new(state, principal, a, team));
    }
    // Oldest deadline first: what fires soonest is on top.
    let mut time_bombs: Vec<ActionRow> = Vec::new();
    let mut approvals = Vec::new();
    let mut advisories = Vec::new();
    for row in rows {
        match row.status {
            "armed" => time_bombs.push(row),
            "awaiting_approval" => approvals.push(row),
            _ => advisories.push(row),
        }
    }
    time_bombs.sort_by_key(|r| r.countdown.as_ref().map_or(i64::MAX, |c| c.remaining_ms));
    let can_batch = time_bombs.iter().chain(&approvals).any(|r| r.may_approve);
    let query = filter_query(q);
    Ok(InboxList {
        csrf_token: console.csrf_token.clone(),
        query,
        time_bombs,
        approvals,
        advisories,
        can_batch,
    })
}

/// The filter part of the query, written back as a query string.
fn filter_query(q: &InboxQuery) -> String {
    let mut parts = Vec::new();
    for (name, value) in [
        ("team", &q.team),
        ("category", &q.category),
        ("level", &q.level),
    ] {
        if !value.is_empty() {
            parts.push(format!("{name}={}", url_escape(value)));
        }
    }
    parts.join("&")
}

pub async fn inbox(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<InboxQuery>,
) -> Response {
    let list = match load_list(&state, &console, &q).await {
        Ok(list) => list,
        Err(e) => return failure(e, "/inbox"),
    };
    let mut teams = vec![(String::new(), "All my teams".to_owned())];
    match state.store.list_teams().await {
        Ok(all) => teams.extend(
            all.into_iter()
                .filter(|t| console.principal.can(Permission::ReadActions, Some(t.id)))
                .map(|t| (t.slug.clone(), t.name)),
        ),
        Err(e) => return failure(e.into(), "/inbox"),
    }
    let mut categories = vec![(String::new(), "All categories".to_owned())];
    categories.extend(Category::ALL.map(|c| (c.as_str().to_owned(), c.as_str().to_owned())));
    let mut levels = vec![(String::new(), "All levels".to_owned())];
    levels.extend(
        [Level::TimeBomb, Level::HumanApproval, Level::Advisory]
            .map(|l| (l.as_str().to_owned(), l.label().to_owned())),
    );
    page(
        StatusCode::OK,
        &InboxPage {
            nav: console.nav("inbox"),
            teams: choices(teams, &q.team),
            categories: choices(categories, &q.category),
            levels: choices(levels, &q.level),
            notice: notice(&q),
            list,
        },
    )
}

pub async fn inbox_list(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<InboxQuery>,
) -> Response {
    match load_list(&state, &console, &q).await {
        Ok(list) => page(StatusCode::OK, &list),
        Err(e) => failure(e, "/inbox"),
    }
}
