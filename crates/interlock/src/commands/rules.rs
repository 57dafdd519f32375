//! `interlock rules …`: policy as code. `validate` and `decide` work offline on a file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use interlock_core::rules::{RuleSet, RulesReadError};
use interlock_core::{Category, Currency, Decision, Money, Proposal, offset_text};

use super::admin::DatabaseArg;
use super::{cli_actor, open_store};
use crate::Refusal;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check a rule file (JSON, or TOML by its .toml extension); lists every problem.
    Validate {
        /// The rule file; `-` reads JSON from standard input.
        file: PathBuf,
    },
    /// Show what a rule file decides for one action, without a server.
    Decide(DecideArgs),
    /// Print a team's rule set (the current version, or --version N).
    Get {
        #[arg(long)]
        team: String,
        #[arg(long)]
        version: Option<u64>,
        /// `json` or `toml`.
        #[arg(long, default_value = "json")]
        format: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Save a rule file as the team's next version (validated first; nothing is saved
    /// if it has problems).
    Set {
        #[arg(long)]
        team: String,
        file: PathBuf,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The rule file; `-` reads JSON from standard input.
    file: PathBuf,
    /// The action's category, e.g. REFUND.
    #[arg(long)]
    category: String,
    /// The amount as a decimal, e.g. 120.00.
    #[arg(long, allow_hyphen_values = true)]
    amount: Option<String>,
    /// The amount's currency; the rule set's own by default.
    #[arg(long)]
    currency: Option<String>,
    /// A tag on the action; repeat for several.
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Print the decision as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(cmd: RulesCommand) -> anyhow::Result<()> {
    match cmd {
        RulesCommand::Validate { file } => validate(&file),
        RulesCommand::Decide(args) => decide(&args),
        RulesCommand::Get {
            team,
            version,
            format,
            db,
        } => get(&team, version, &format, &db).await,
        RulesCommand::Set { team, file, db } => set(&team, &file, &db).await,
    }
}

async fn team_of(
    store: &dyn interlock_store::Store,
    slug: &str,
) -> anyhow::Result<interlock_store::Team> {
    store
        .team_by_slug(slug)
        .await?
        .ok_or_else(|| Refusal::new("not_found", format!("there is no team `{slug}`")).into())
}

async fn get(
    slug: &str,
    version: Option<u64>,
    format: &str,
    db: &DatabaseArg,
) -> anyhow::Result<()> {
    let store = open_store(&db.url).await?;
    let team = team_of(store.as_ref(), slug).await?;
    let rules = match version {
        None => store.current_rules(team.id).await?.rules,
        Some(v) => {
            store
                .rules_version(team.id, v)
                .await?
                .ok_or_else(|| {
                    Refusal::new(
                        "not_found",
                        format!("team `{slug}` has no rules version {v}"),
                    )
                })?
                .rules
        }
    };
    match format {
        "json" => println!("{}", rules.to_json_pretty()),
        "toml" => print!("{}", rules.to_toml()),
        _ => return Err(Refusal::new("invalid_field", "--format is `json` or `toml`").into()),
    }
    Ok(())
}

async fn set(slug: &str, file: &Path, db: &DatabaseArg) -> anyhow::Result<()> {
    let rules = read_rules_file(file)?;
    let store = open_store(&db.url).await?;
    let team = team_of(store.as_ref(), slug).await?;
    let current = store.current_rules(team.id).await?;
    if rules.same_rules_as(&current.rules) {
        println!(
            "team {slug}: no change; the rules stay at version {}",
            current.version
        );
        return Ok(());
    }
    let doc = |r: &RuleSet| {
        serde_json::to_value(r.to_doc(interlock_core::rules::DocStyle::Json)).unwrap_or_default()
    };
    let audit = interlock_store::AuditDraft {
        team_id: Some(team.id),
        actor: cli_actor(),
        subject: Some(team.id.to_string()),
        event: "rules.changed".to_owned(),
        data: serde_json::json!({
            "from_version": current.version,
            "to_version": current.version + 1,
            "before": doc(&current.rules),
            "after": doc(&rules),
            "file": file.display().to_string(),
        }),
    };
    let saved = store
        .save_rules(
            team.id,
            current.version,
            rules,
            cli_actor(),
            chrono::Utc::now(),
            audit,
        )
        .await?;
    println!("team {slug}: saved rules version {}", saved.version);
    Ok(())
}

/// Reads and validates a rule file; TOML when the name ends in `.toml`, else JSON.
pub fn read_rules_file(path: &Path) -> anyhow::Result<RuleSet> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
            .context("reading the rules from standard input")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let parsed = if is_toml {
        RuleSet::from_toml_str(&text)
    } else {
        RuleSet::from_json_str(&text)
    };
    parsed.map_err(|e| {
        let code = match e {
            RulesReadError::Syntax { .. } => "malformed_rules",
            RulesReadError::Invalid(_) => "invalid_rules",
        };
        Refusal::new(code, format!("{}: {e}", path.display())).into()
    })
}

fn validate(path: &Path) -> anyhow::Result<()> {
    let rules = read_rules_file(path)?;
    let with_bands = Category::ALL
        .into_iter()
        .filter(|c| !rules.category(*c).thresholds.is_empty())
        .count();
    println!(
        "{}: valid (version {}, currency {}, {} categor{} with threshold overrides, {} advisory tags)",
        path.display(),
        rules.version(),
        rules.currency(),
        with_bands,
        if with_bands == 1 { "y" } else { "ies" },
        rules.advisory_tags().len()
    );
    Ok(())
}

fn decide(args: &DecideArgs) -> anyhow::Result<()> {
    let rules = read_rules_file(&args.file)?;
    let outcome = decide_with(&rules, args);
    match (&outcome, args.json) {
        (Ok(d), true) => println!("{}", serde_json::to_string_pretty(d)?),
        (Ok(d), false) => print_decision(d),
        (Err(r), true) => {
            // The refusal goes to stdout as JSON for scripts, and the exit status says it failed.
            println!(
                "{}",
                serde_json::json!({"code": r.code, "message": r.message})
            );
        }
        (Err(_), false) => {}
    }
    outcome.map(|_| ()).map_err(Into::into)
}

fn decide_with(rules: &RuleSet, args: &DecideArgs) -> Result<Decision, Refusal> {
    let category: Category =
        args.category
            .parse()
            .map_err(|e: interlock_core::ParseNameError| {
                Refusal::new("unknown_category", e.to_string())
            })?;
    let currency: Currency = match &args.currency {
        Some(code) => code
            .parse()
            .map_err(|e: interlock_core::AmountError| Refusal::new(e.code(), e.to_string()))?,
        None => rules.currency(),
    };
    let amount = args
        .amount
        .as_deref()
        .map(|a| Money::parse(a, currency))
        .transpose()
        .map_err(|e| Refusal::new(e.code(), e.to_string()))?;
    rules
        .decide(&Proposal {
            category,
            amount,
            tags: &args.tags,
        })
        .map_err(|e| Refusal::new(e.code(), e.to_string()))
}

fn print_decision(d: &Decision) {
    println!("level:       {}", d.level);
    println!("rule:        {}", d.rule.as_str());
    println!("explanation: {}", d.explanation());
    if let Some(tb) = &d.time_bomb {
        println!("deadline:    {} after arming", tb.duration);
        let reminders: Vec<String> = tb
            .reminder_offsets()
            .into_iter()
            .map(|(kind, after)| format!("{} at +{}", kind.as_str(), offset_text(after)))
            .collect();
        let listed = if reminders.is_empty() {
            "none".to_owned()
        } else {
            reminders.join(", ")
        };
        println!("reminders:   {listed}");
    }
}
