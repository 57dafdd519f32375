//! `interlock migrate`, `team create`, `key create|list|revoke`: set-up against a
//! database, with or without a server running on it.

use chrono::Utc;
use clap::{Args, Subcommand};
use interlock_server::service::admin;
use interlock_store::KeyKind;

use super::{cli_actor, open_store, refusal};
use crate::Refusal;

/// Where the data lives; every data command takes it.
#[derive(Debug, Args)]
pub struct DatabaseArg {
    /// The database, e.g. sqlite://interlock.db.
    #[arg(
        long = "database",
        env = "INTERLOCK_DATABASE_URL",
        default_value = "sqlite://interlock.db"
    )]
    pub url: String,
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create a team; it starts with the conservative rule set.
    Create {
        slug: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List teams.
    List {
        #[command(flatten)]
        db: DatabaseArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key and print it (alone, once) on stdout.
    Create {
        /// `agent` (with --team) or `admin` (deployment-wide, the owner's rights); a
        /// personal key is made with --user instead.
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        team: Option<String>,
        /// A person's email: their personal key, acting with their rights.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// When the key stops working by itself (RFC 3339).
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Revoke a key: it stops working at once.
    Revoke {
        id: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

pub async fn migrate(db: DatabaseArg) -> anyhow::Result<()> {
    open_store(&db.url).await?;
    println!("{}: the schema is up to date", db.url);
    Ok(())
}

pub async fn team(cmd: TeamCommand) -> anyhow::Result<()> {
    match cmd {
        TeamCommand::Create { slug, name, db } => {
            let store = open_store(&db.url).await?;
            let team = admin::create_team(store.as_ref(), &slug, &name, &cli_actor(), Utc::now())
                .await
                .map_err(refusal)?;
            println!(
                "created team {} ({}) with the conservative rules",
                team.slug, team.name
            );
        }
        TeamCommand::List { db } => {
            let store = open_store(&db.url).await?;
            for t in store.list_teams().await? {
                println!("{}\t{}\t{}", t.slug, t.name, t.id);
            }
        }
    }
    Ok(())
}

pub async fn key(cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {
        KeyCommand::Create {
            kind,
            team,
            user,
            name,
            expires_at,
            db,
        } => {
            let kind = match (kind.as_deref(), &user) {
                (Some("agent"), None) => KeyKind::Agent,
                (Some("admin"), None) => KeyKind::Admin,
                (Some("user") | None, Some(_)) => KeyKind::User,
                _ => {
                    return Err(Refusal::new(
                        "invalid_field",
                        "use --kind agent --team SLUG, --kind admin, or --user EMAIL",
                    )
                    .into());
                }
            };
            let store = open_store(&db.url).await?;
            let team = match team {
                Some(slug) => Some(store.team_by_slug(&slug).await?.ok_or_else(|| {
                    Refusal::new("not_found", format!("there is no team `{slug}`"))
                })?),
                None => None,
            };
            let user_id = match &user {
                Some(email) => Some(
                    store
                        .user_by_email(email)
                        .await?
                        .ok_or_else(|| {
                            Refusal::new("not_found", format!("there is no person `{email}`"))
                        })?
                        .id,
                ),
                None => None,
            };
            let new = admin::NewKey {
                kind,
                team: team.as_ref(),
                user_id,
                name,
                expires_at,
            };
            let created = admin::create_key(store.as_ref(), new, &cli_actor(), Utc::now())
                .await
                .map_err(refusal)?;
            println!("{}", created.token);
        }
        KeyCommand::List { db } => {
            let store = open_store(&db.url).await?;
            let teams = store.list_teams().await?;
            for k in store.list_keys().await? {
                let team = k
                    .team_id
                    .and_then(|id| teams.iter().find(|t| t.id == id))
                    .map_or("-", |t| t.slug.as_str());
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let used = k.last_used_at.map_or("never used".to_owned(), |t| {
                    format!("last used {}", t.to_rfc3339())
                });
                println!("{}\t{}\t{team}\t{state}\t{used}", k.id, k.kind.as_str());
            }
        }
        KeyCommand::Revoke { id, db } => {
            let store = open_store(&db.url).await?;
            admin::revoke_key(store.as_ref(), &id, &cli_actor(), Utc::now())
                .await
                .map_err(refusal)?;
            println!("revoked {id}");
        }
    }
    Ok(())
}
