//! Notification channels: checked at the edge, created and removed with an audit entry,
//! shown without secrets. The API and the CLI both come through here.

use chrono::{DateTime, Utc};
use interlock_store::{
    Actor, AuditDraft, ChannelConfig, ChannelRecord, SmtpServer, SmtpTls, Store, Team,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

pub const MAX_RECIPIENTS: usize = 50;
pub const MAX_CHANNELS_PER_TEAM: usize = 20;

/// The body of `POST /v1/teams/{team}/channels`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    /// `webhook`, `slack` or `email`.
    pub kind: String,
    /// webhook and slack: where to POST.
    #[serde(default)]
    pub url: Option<String>,
    /// webhook: signs deliveries (HMAC-SHA256), 16 to 256 characters; never shown again.
    #[serde(default)]
    pub secret: Option<String>,
    /// email: recipients (1 to 50).
    #[serde(default)]
    pub to: Option<Vec<String>>,
    /// email: the SMTP server to send through; without one, the deployment's `[smtp]`.
    #[serde(default)]
    pub smtp: Option<SmtpBody>,
}

/// An SMTP server as given to the API.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpBody {
    pub host: String,
    pub port: u16,
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    /// Never shown again.
    #[serde(default)]
    pub password: Option<String>,
    /// `none`, `starttls` (the default) or `tls`.
    #[serde(default)]
    pub tls: Option<String>,
}

/// A channel as shown: secrets redacted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelView {
    pub id: Uuid,
    pub team: String,
    pub kind: String,
    /// webhook: the URL. slack: only its scheme and host (the path is the secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    /// email: the SMTP server's host, port and TLS mode, or `null` for the deployment's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub smtp: Option<serde_json::Value>,
    /// Whether a secret (webhook secret, SMTP password, Slack URL) is set; never shown.
    pub has_secret: bool,
    pub created_at: DateTime<Utc>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::unprocessable("invalid_field", message)
}

pub fn check_url(url: &str) -> ApiResult<()> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 2048
        && !url.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(invalid("`url` must be an http(s) URL"))
    }
}

pub fn check_secret(secret: &str) -> ApiResult<()> {
    if (16..=256).contains(&secret.chars().count()) {
        Ok(())
    } else {
        Err(invalid("`secret` is 16 to 256 characters"))
    }
}

fn check_address(field: &str, addr: &str) -> ApiResult<()> {
    let ok = addr.len() <= 320
        && addr.parse::<lettre::message::Mailbox>().is_ok()
        && !addr.contains(['\r', '\n']);
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "`{field}`: `{addr}` is not an email address"
        )))
    }
}

pub fn smtp_server(b: SmtpBody) -> ApiResult<SmtpServer> {
    if b.host.is_empty()
        || b.host.len() > 253
        || b.host.contains(|c: char| c.is_whitespace() || c == '/')
    {
        return Err(invalid("`host` must be a host name or address"));
    }
    if b.port == 0 {
        return Err(invalid("`port` must be 1 to 65535"));
    }
    check_address("from", &b.from)?;
    for (field, v) in [("username", &b.username), ("password", &b.password)] {
        if v.as_ref().is_some_and(|v| v.is_empty() || v.len() > 512) {
            return Err(invalid(format!("`{field}` is 1 to 512 characters")));
        }
    }
    if b.username.is_some() != b.password.is_some() {
        return Err(invalid("give `username` and `password` together"));
    }
    let tls = match b.tls.as_deref() {
        None | Some("starttls") => SmtpTls::Starttls,
        Some("none") => SmtpTls::None,
        Some("tls") => SmtpTls::Tls,
        Some(other) => {
            return Err(invalid(format!(
                "`tls` is none, starttls or tls, not `{other}`"
            )));
        }
    };
    Ok(SmtpServer {
        host: b.host,
        port: b.port,
        from: b.from,
        username: b.username,
        password: b.password,
        tls,
    })
}

/// Checks a channel body: every field its kind needs, none it does not take.
pub fn config(body: ChannelBody, deployment_smtp: bool) -> ApiResult<ChannelConfig> {
    let ChannelBody {
        kind,
        url,
        secret,
        to,
        smtp,
    } = body;
    match (kind.as_str(), url, secret, to, smtp) {
        ("webhook", Some(url), Some(secret), None, None) => {
            check_url(&url)?;
            check_secret(&secret)?;
            Ok(ChannelConfig::Webhook { url, secret })
        }
        ("webhook", ..) => Err(invalid(
            "a webhook channel takes `url` and `secret`, nothing else",
        )),
        ("slack", Some(url), None, None, None) => {
            check_url(&url)?;
            Ok(ChannelConfig::Slack { url })
        }
        ("slack", ..) => Err(invalid("a slack channel takes `url`, nothing else")),
        ("email", None, None, Some(to), smtp) => {
            if to.is_empty() || to.len() > MAX_RECIPIENTS {
                return Err(invalid(format!("`to` has 1 to {MAX_RECIPIENTS} addresses")));
            }
            for addr in &to {
                check_address("to", addr)?;
            }
            if smtp.is_none() && !deployment_smtp {
                return Err(invalid(
                    "no SMTP server: give `smtp`, or set [smtp] in the server's config",
                ));
            }
            Ok(ChannelConfig::Email {
                to,
                smtp: smtp.map(smtp_server).transpose()?,
            })
        }
        ("email", ..) => Err(invalid("an email channel takes `to` and optionally `smtp`")),
        (other, ..) => Err(ApiError::unprocessable(
            "unknown_channel",
            format!("unknown channel kind `{other}`; use webhook, slack or email"),
        )),
    }
}

/// `https://hooks.slack.com/services/T/B/X` → `https://hooks.slack.com`.
fn origin(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    url[..end].to_owned()
}

pub fn view(c: &ChannelRecord, team_slug: &str) -> ChannelView {
    let (url, to, smtp, has_secret) = match &c.config {
        ChannelConfig::Webhook { url, .. } => (Some(url.clone()), None, None, true),
        ChannelConfig::Slack { url } => (Some(origin(url)), None, None, true),
        ChannelConfig::Email { to, smtp } => (
            None,
            Some(to.clone()),
            Some(smtp.as_ref().map_or(serde_json::Value::Null, |s| {
                json!({"host": s.host, "port": s.port, "from": s.from, "tls": s.tls, "username": s.username})
            })),
            smtp.as_ref().is_some_and(|s| s.password.is_some()),
        ),
    };
    ChannelView {
        id: c.id,
        team: team_slug.to_owned(),
        kind: c.config.kind().to_owned(),
        url,
        to,
        smtp,
        has_secret,
        created_at: c.created_at,
    }
}

pub async fn create(
    store: &dyn Store,
    team: &Team,
    config: ChannelConfig,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<ChannelRecord> {
    if store.channels(team.id).await?.len() >= MAX_CHANNELS_PER_TEAM {
        return Err(ApiError::conflict(
            "too_many_channels",
            format!("a team has at most {MAX_CHANNELS_PER_TEAM} channels"),
        ));
    }
    let channel = ChannelRecord {
        id: Uuid::now_v7(),
        team_id: team.id,
        config,
        created_at: now,
    };
    let shown = view(&channel, &team.slug);
    let audit = AuditDraft {
        team_id: Some(team.id),
        actor: actor.clone(),
        subject: Some(channel.id.to_string()),
        event: "channel.created".to_owned(),
        // What people may see of it: never the secret.
        data: serde_json::to_value(&shown).unwrap_or_default(),
    };
    store.create_channel(channel.clone(), audit).await?;
    Ok(channel)
}

/// A channel of `team`, or 404 (a channel of another team is not found either).
pub async fn of_team(store: &dyn Store, team: &Team, id: &str) -> ApiResult<ChannelRecord> {
    let id: Uuid = id.parse().map_err(|_| ApiError::not_found("channel"))?;
    store
        .channel(id)
        .await?
        .filter(|c| c.team_id == team.id)
        .ok_or_else(|| ApiError::not_found("channel"))
}

pub async fn delete(
    store: &dyn Store,
    team: &Team,
    channel: &ChannelRecord,
    actor: &Actor,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let audit = AuditDraft {
        team_id: Some(team.id),
        actor: actor.clone(),
        subject: Some(channel.id.to_string()),
        event: "channel.deleted".to_owned(),
        data: json!({"kind": channel.config.kind()}),
    };
    store.delete_channel(channel.id, now, audit).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slack_url_is_shown_as_its_origin_only() {
        assert_eq!(
            origin("https://hooks.slack.com/services/T0/B0/XYZ"),
            "https://hooks.slack.com"
        );
        assert_eq!(origin("http://127.0.0.1:9/x"), "http://127.0.0.1:9");
    }
}
