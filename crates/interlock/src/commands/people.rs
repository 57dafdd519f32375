//! `interlock user add|list|set-role|remove|set-password`.

use std::io::{BufRead, IsTerminal};

use chrono::Utc;
use clap::Subcommand;
use interlock_server::service::people;

use super::admin::DatabaseArg;
use super::{cli_actor, open_store, refusal};
use crate::Refusal;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person. The password is read from a prompt, or from standard input with
    /// --password-stdin; never from the command line.
    Add {
        email: String,
        /// owner, admin, manager or viewer.
        #[arg(long)]
        role: String,
        /// A team the person belongs to; repeat for several.
        #[arg(long = "team")]
        teams: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// No password: the person uses personal keys only.
        #[arg(long, conflicts_with = "password_stdin")]
        no_password: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// List people, their roles and teams.
    List {
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Change a person's role and teams (the teams given replace the old ones).
    SetRole {
        email: String,
        #[arg(long)]
        role: String,
        #[arg(long = "team")]
        teams: Vec<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Set a new password (prompt, or --password-stdin); clears a login lock.
    SetPassword {
        email: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Remove a person: their keys are revoked and their sessions end.
    Remove {
        email: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

/// A password from stdin (first line) or from a prompt that does not echo.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err(Refusal::new("password_mismatch", "the two passwords differ").into());
        }
        first
    };
    if password.is_empty() {
        return Err(Refusal::new("weak_password", "no password given").into());
    }
    Ok(password)
}

async fn find(
    store: &dyn interlock_store::Store,
    email: &str,
) -> anyhow::Result<interlock_store::UserRecord> {
    store
        .user_by_email(email)
        .await?
        .ok_or_else(|| Refusal::new("not_found", format!("there is no person `{email}`")).into())
}

pub async fn run(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            email,
            role,
            teams,
            password_stdin,
            no_password,
            db,
        } => {
            let role = people::parse_role(&role).map_err(refusal)?;
            let password = if no_password {
                None
            } else {
                Some(read_password(password_stdin)?)
            };
            let store = open_store(&db.url).await?;
            let teams = people::team_ids(store.as_ref(), &teams)
                .await
                .map_err(refusal)?;
            let user = people::add(
                store.as_ref(),
                &email,
                role,
                teams,
                password.as_deref(),
                &cli_actor(),
                Utc::now(),
            )
            .await
            .map_err(refusal)?;
            println!("added {} as {}", user.email, user.role.as_str());
        }
        UserCommand::List { db } => {
            let store = open_store(&db.url).await?;
            let teams = store.list_teams().await?;
            for u in store.list_users().await? {
                let slugs: Vec<&str> = u
                    .teams
                    .iter()
                    .filter_map(|id| teams.iter().find(|t| t.id == *id).map(|t| t.slug.as_str()))
                    .collect();
                println!(
                    "{}\t{}\t{}",
                    u.email,
                    u.role.as_str(),
                    if slugs.is_empty() {
                        "-".to_owned()
                    } else {
                        slugs.join(",")
                    }
                );
            }
        }
        UserCommand::SetRole {
            email,
            role,
            teams,
            db,
        } => {
            let role = people::parse_role(&role).map_err(refusal)?;
            let store = open_store(&db.url).await?;
            let user = find(store.as_ref(), &email).await?;
            let teams = people::team_ids(store.as_ref(), &teams)
                .await
                .map_err(refusal)?;
            let user = people::set_role(
                store.as_ref(),
                user.id,
                role,
                teams,
                &cli_actor(),
                Utc::now(),
            )
            .await
            .map_err(refusal)?;
            println!("{} is now {}", user.email, user.role.as_str());
        }
        UserCommand::SetPassword {
            email,
            password_stdin,
            db,
        } => {
            let password = read_password(password_stdin)?;
            let store = open_store(&db.url).await?;
            let user = find(store.as_ref(), &email).await?;
            people::set_password(store.as_ref(), user.id, &password, &cli_actor(), Utc::now())
                .await
                .map_err(refusal)?;
            println!("password set for {}", user.email);
        }
        UserCommand::Remove { email, db } => {
            let store = open_store(&db.url).await?;
            let user = find(store.as_ref(), &email).await?;
            people::remove(store.as_ref(), user.id, &cli_actor(), Utc::now())
                .await
                .map_err(refusal)?;
            println!("removed {email}; their keys are revoked");
        }
    }
    Ok(())
}
