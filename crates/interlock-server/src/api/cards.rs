//! `/v1/cards`: the cases actions are about (SPEC §8), with their notes, priority, and
//! the actions and plans about them.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use interlock_store::{ActionFilter, Card, Team};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ErrorBody;
use super::extract::{ApiQuery, team_for};
use super::views::{ActionView, ActorView};
use crate::auth::{Permission, Principal};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cards))
        .routes(routes!(get_card))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    pub id: String,
    pub team: String,
    /// `normal`, `low`, `medium`, `high` or `critical` (raised by escalations).
    pub priority: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    pub text: String,
    pub author: ActorView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanSummary {
    pub id: Uuid,
    pub summary: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardDetail {
    #[serde(flatten)]
    pub card: CardView,
    pub notes: Vec<NoteView>,
    /// The actions about this card, newest first (at most 200).
    pub actions: Vec<ActionView>,
    pub plans: Vec<PlanSummary>,
}

fn card_view(c: &Card, team: &str) -> CardView {
    CardView {
        id: c.id.clone(),
        team: team.to_owned(),
        priority: c.priority.as_str().to_owned(),
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CardQuery {
    /// Team slug: only this team's cards.
    team: Option<String>,
    /// At most 500; 100 by default.
    limit: Option<u32>,
}

async fn visible_teams(state: &AppState, principal: &Principal) -> ApiResult<Vec<Team>> {
    Ok(state
        .store
        .list_teams()
        .await?
        .into_iter()
        .filter(|t| principal.sees_team(t.id) && principal.can(Permission::ReadCards, Some(t.id)))
        .collect())
}

/// Cards of the caller's teams, most recently changed first.
#[utoipa::path(get, path = "/v1/cards", tag = "cards", params(CardQuery),
    responses((status = 200, body = Vec<CardView>), (status = 403, body = ErrorBody)))]
pub async fn list_cards(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<CardQuery>,
) -> ApiResult<Json<Vec<CardView>>> {
    let teams = match &q.team {
        Some(slug) => vec![team_for(&state, &principal, slug, Permission::ReadCards).await?],
        None => visible_teams(&state, &principal).await?,
    };
    if teams.is_empty() && principal.is_agent() {
        return Err(ApiError::forbidden("forbidden", "agents do not read cards"));
    }
    let ids: Vec<Uuid> = teams.iter().map(|t| t.id).collect();
    let cards = state
        .store
        .list_cards(Some(&ids), q.limit.unwrap_or(100).clamp(1, 500))
        .await?;
    Ok(Json(
        cards
            .iter()
            .filter_map(|c| {
                let team = teams.iter().find(|t| t.id == c.team_id)?;
                Some(card_view(c, &team.slug))
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OneCardQuery {
    /// Team slug; needed only when teams you see share a card id.
    team: Option<String>,
}

/// One card with its notes, priority, and the actions and plans about it.
#[utoipa::path(get, path = "/v1/cards/{id}", tag = "cards",
    params(("id" = String, Path), OneCardQuery),
    responses((status = 200, body = CardDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn get_card(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<OneCardQuery>,
) -> ApiResult<Json<CardDetail>> {
    let teams = match &q.team {
        Some(slug) => vec![team_for(&state, &principal, slug, Permission::ReadCards).await?],
        None => visible_teams(&state, &principal).await?,
    };
    if teams.is_empty() && principal.is_agent() {
        return Err(ApiError::forbidden("forbidden", "agents do not read cards"));
    }
    let mut found = Vec::new();
    for team in teams {
        if let Some(card) = state.store.card(team.id, &id).await? {
            found.push((team, card));
        }
    }
    if found.len() > 1 {
        return Err(ApiError::conflict(
            "ambiguous_card",
            format!("several of your teams have a card `{id}`: add ?team=<slug>"),
        ));
    }
    let (team, card) = found.pop().ok_or_else(|| ApiError::not_found("card"))?;
    let notes = state.store.card_notes(team.id, &card.id).await?;
    let filter = ActionFilter {
        team_id: Some(team.id),
        card_id: Some(card.id.clone()),
        ..ActionFilter::default()
    };
    let actions = state.store.list_actions(&filter, None, 200).await?.items;
    let plans = state.store.plans_for_card(team.id, &card.id).await?;
    Ok(Json(CardDetail {
        card: card_view(&card, &team.slug),
        notes: notes
            .iter()
            .map(|n| NoteView {
                text: n.text.clone(),
                author: (&n.author).into(),
                action: n.action_id,
                created_at: n.created_at,
            })
            .collect(),
        actions: ActionView::load_all(&state, &actions).await?,
        plans: plans
            .into_iter()
            .map(|p| PlanSummary {
                id: p.id,
                summary: p.summary,
                created_at: p.created_at,
            })
            .collect(),
    }))
}
