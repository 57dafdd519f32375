//! `interlock rules …`: policy as code. `validate` and `decide` work offline on a file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use interlock_core::rules::{RuleSet, RulesReadError};
use interlock_core::{Category, Currency, Decision, Money, Proposal, offset_text};

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

pub fn run(cmd: RulesCommand) -> anyhow::Result<()> {
    match cmd {
        RulesCommand::Validate { file } => validate(&file),
        RulesCommand::Decide(args) => decide(&args),
    }
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
