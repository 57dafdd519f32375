//! Rows of notification channels, the outbox's per-channel sends, and cards.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::models::{Actor, AuditDraft, SmtpTls};

/// An SMTP server to send through: an email channel's own, or the deployment's. Its
/// `Debug` leaves the password out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    /// The sender address, e.g. `Interlock <interlock@ourco.example>`.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub tls: SmtpTls,
}

impl std::fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .finish()
    }
}

/// Where a team's notifications go (SPEC §16). Secrets are kept to sign and log in; the
/// API never shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelConfig {
    /// Signed JSON, like a webhook connector's delivery.
    Webhook { url: String, secret: String },
    /// A Slack-compatible incoming webhook: readable text and blocks.
    Slack { url: String },
    /// Email to fixed addresses (escalations also reach the team's managers), through
    /// the channel's own SMTP server or else the deployment's.
    Email {
        to: Vec<String>,
        #[serde(default)]
        smtp: Option<SmtpServer>,
    },
}

impl ChannelConfig {
    pub const fn kind(&self) -> &'static str {
        match self {
            ChannelConfig::Webhook { .. } => "webhook",
            ChannelConfig::Slack { .. } => "slack",
            ChannelConfig::Email { .. } => "email",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRecord {
    pub id: Uuid,
    pub team_id: Uuid,
    pub config: ChannelConfig,
    pub created_at: DateTime<Utc>,
}

/// Where one delivery goes: one of the team's channels, or the proposing agent's
/// callback URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SendTarget {
    Channel(Uuid),
    Callback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendState {
    /// Failed in a way worth trying again; the delivery's job comes back later.
    Retrying,
    Sent,
    /// Gave up: a final answer, or too many attempts.
    Failed,
    /// Not sent because it no longer means anything (the action left `armed`, or a newer
    /// reminder replaced it).
    Skipped,
}

impl SendState {
    pub const fn as_str(self) -> &'static str {
        match self {
            SendState::Retrying => "retrying",
            SendState::Sent => "sent",
            SendState::Failed => "failed",
            SendState::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<SendState> {
        [
            SendState::Retrying,
            SendState::Sent,
            SendState::Failed,
            SendState::Skipped,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Sent, failed and skipped are final: nothing more is attempted.
    pub const fn is_final(self) -> bool {
        !matches!(self, SendState::Retrying)
    }
}

/// What became of one delivery on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliverySend {
    pub delivery_id: Uuid,
    pub target: SendTarget,
    pub state: SendState,
    pub attempts: u32,
    /// The receiver's answer (status and the start of its body, or the SMTP reply).
    pub answer: Option<String>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// How urgent a card is. `normal` until an escalation raises it to its severity; never
/// lowered by a later, milder escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardPriority {
    Normal,
    Low,
    Medium,
    High,
    Critical,
}

impl CardPriority {
    pub const ALL: [CardPriority; 5] = [
        CardPriority::Normal,
        CardPriority::Low,
        CardPriority::Medium,
        CardPriority::High,
        CardPriority::Critical,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CardPriority::Normal => "normal",
            CardPriority::Low => "low",
            CardPriority::Medium => "medium",
            CardPriority::High => "high",
            CardPriority::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<CardPriority> {
        CardPriority::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A card (the case actions are about), per team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Card {
    pub team_id: Uuid,
    pub id: String,
    pub priority: CardPriority,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardNote {
    pub id: i64,
    pub text: String,
    pub author: Actor,
    /// The INTERNAL_NOTE or ESCALATE action that wrote it, if any.
    pub action_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Work on a card, in one transaction: open it if it does not exist, add a note, raise
/// its priority. Repeating it for the same action changes nothing more (a retried
/// execution adds its note once), and its audit entry is written only when something
/// changed.
#[derive(Debug, Clone)]
pub struct CardWork {
    pub team_id: Uuid,
    pub card_id: String,
    pub action_id: Option<Uuid>,
    pub note: Option<String>,
    pub author: Actor,
    /// Raise the priority to at least this.
    pub raise_to: Option<CardPriority>,
    pub at: DateTime<Utc>,
    pub audit: AuditDraft,
}
