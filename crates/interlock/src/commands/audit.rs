//! `interlock audit verify|export`.

use clap::Subcommand;
use interlock_store::AuditFilter;
use interlock_store::audit::verify_all;

use super::admin::DatabaseArg;
use super::open_store;
use crate::Refusal;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every hash chain; exits non-zero if an entry was altered, inserted or removed.
    Verify {
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Write the audit trail to stdout, oldest first.
    Export {
        /// `jsonl` or `csv`.
        #[arg(long, default_value = "jsonl")]
        format: String,
        /// Only this team's entries.
        #[arg(long)]
        team: Option<String>,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

pub async fn run(cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify { db } => {
            let store = open_store(&db.url).await?;
            match verify_all(store.as_ref()).await? {
                Ok(n) => {
                    println!("audit trail intact: {n} entries verified");
                    Ok(())
                }
                Err(b) => Err(Refusal::new(
                    "audit_chain_broken",
                    format!(
                        "chain {} is broken at entry {}: {}",
                        b.chain, b.seq, b.problem
                    ),
                )
                .into()),
            }
        }
        AuditCommand::Export { format, team, db } => {
            let csv = match format.as_str() {
                "jsonl" => false,
                "csv" => true,
                _ => {
                    return Err(
                        Refusal::new("invalid_field", "--format is `jsonl` or `csv`").into(),
                    );
                }
            };
            let store = open_store(&db.url).await?;
            let mut filter = AuditFilter::default();
            if let Some(slug) = team {
                let t = store.team_by_slug(&slug).await?.ok_or_else(|| {
                    Refusal::new("not_found", format!("there is no team `{slug}`"))
                })?;
                filter.team_id = Some(t.id);
            }
            let mut entries = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = store.search_audit(&filter, cursor.as_deref(), 500).await?;
                entries.extend(page.items);
                cursor = page.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            entries.reverse();
            let teams = store.list_teams().await?;
            let slug = |id| teams.iter().find(|t| t.id == id).map(|t| t.slug.clone());
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            use std::io::Write;
            if csv {
                write!(out, "{}", interlock_server::api::AUDIT_CSV_HEADER)?;
            }
            for e in &entries {
                let view = interlock_server::api::views::AuditView::from_entry(
                    e,
                    e.team_id.and_then(slug),
                );
                if csv {
                    write!(out, "{}", interlock_server::api::audit_csv_line(&view))?;
                } else {
                    writeln!(out, "{}", serde_json::to_string(&view)?)?;
                }
            }
            out.flush()?;
            Ok(())
        }
    }
}
