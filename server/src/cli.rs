//! Command line: `baton serve` (the default), `baton signals`, `baton export`, `baton privacy`,
//! `baton keys`.

use std::io::{BufRead, Write};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

use crate::config::Settings;
use crate::conversation::turn::{self, TurnFacts};
use crate::escalation::{Decision, PolicyState};
use crate::protocol::Reason;
use crate::signals::{Role, Turn};
use crate::sites::Site;

#[derive(Debug, Parser)]
#[command(name = "baton", version, about = "Customer-support chat with AI answers and human handoff")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Default, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    #[default]
    Serve,
    /// Replay transcripts (JSON lines on stdin) through a site's escalation policy; prints
    /// one JSON line per visitor turn.
    Signals(SignalsArgs),
    /// Print archived conversations, one JSON object a line, oldest first, with their events
    /// as on the wire (notes included).
    Export(ExportArgs),
    /// Privacy requests about one visitor: everything Baton holds (`export`), or erase it.
    #[command(subcommand)]
    Privacy(PrivacyCommand),
    /// The owner API's keys (docs/api.md).
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key for a site; prints its record, then the key itself as the last line.
    Create(CreateKeyArgs),
}

#[derive(Debug, Args)]
pub struct CreateKeyArgs {
    /// The site the key is for (one of the configured sites).
    #[arg(long)]
    pub site: String,
    /// What it may do: read < write < admin (each includes the ones before).
    #[arg(long, value_parser = ["read", "write", "admin"])]
    pub scope: String,
    /// A label to recognise the key by.
    #[arg(long, default_value = "")]
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Print all Baton holds about the visitor as one JSON object.
    Export(SubjectArgs),
    /// Erase all Baton holds about the visitor; prints the counts. With `--server`, a running
    /// server erases it (its live store, memory or Redis, and the archive), the admin token
    /// read from `BATON_ADMIN_TOKEN`; without, the archive and a Redis live store.
    Erase(EraseArgs),
}

#[derive(Debug, Args)]
pub struct EraseArgs {
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// A running server's base URL (`http://host:port`).
    #[arg(long)]
    pub server: Option<String>,
}

/// Who a privacy request is about: exactly one of the two.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SubjectArgs {
    /// The email address the visitor left.
    #[arg(long)]
    pub email: Option<String>,
    /// The site's own id for the visitor (verified identity).
    #[arg(long)]
    pub user_id: Option<String>,
}

impl SubjectArgs {
    pub fn subject(&self) -> crate::archive::privacy::Subject {
        use crate::archive::privacy::Subject;
        match (&self.email, &self.user_id) {
            (Some(email), _) => Subject::Email(email.clone()),
            // unwrap-free: clap requires exactly one of the two.
            (None, user_id) => Subject::UserId(user_id.clone().unwrap_or_default()),
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only this site's conversations.
    #[arg(long)]
    pub site: Option<String>,
    /// Only conversations started at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Args)]
pub struct SignalsArgs {
    /// The site whose knowledge base and policy to use.
    #[arg(long)]
    pub site: String,
    /// Instead of replaying transcripts: propose the site's thresholds from the agents'
    /// verdicts in the archive, and print how each change would have moved past decisions.
    #[arg(long)]
    pub tune: bool,
}

pub trait CommandExt {
    fn is_serve(&self) -> bool;
}

impl CommandExt for Option<Command> {
    fn is_serve(&self) -> bool {
        matches!(self, None | Some(Command::Serve))
    }
}

#[derive(Debug, Deserialize)]
struct Transcript {
    id: serde_json::Value,
    turns: Vec<TranscriptTurn>,
}

#[derive(Debug, Deserialize)]
struct TranscriptTurn {
    role: Role,
    text: String,
}

/// One output line, fields in the protocol's order.
#[derive(serde::Serialize)]
struct TurnLine<'a> {
    id: &'a serde_json::Value,
    turn: usize,
    sentiment: f32,
    sentiment_trend: f32,
    explicit_request: bool,
    confidence: Option<f32>,
    escalate: bool,
    reason: Option<Reason>,
}

/// `baton signals --site SITE < conversations.jsonl > turns.jsonl`. A line that is not a
/// conversation is reported on stderr with its number and skipped; the exit status is then 1.
pub async fn signals(settings: Settings, args: SignalsArgs) -> anyhow::Result<()> {
    let config = settings.site(&args.site).with_context(|| format!("no site {:?} in the configuration", args.site))?;
    let embedder = crate::bot::embeddings::Embedder::from_settings(&settings.llm)?;
    let site = Site { embedder: embedder.clone(), ..Site::load(config.clone())? };
    // As the server searches: by meaning too when an embedding model is configured.
    if let Some(embedder) = &embedder
        && let Err(error) = embedder.index(&site.knowledge).await
    {
        eprintln!("baton signals: the knowledge base was not embedded ({error}); searching by words alone");
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut bad_lines = 0;
    for (index, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("Failed to read stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Transcript>(&line) {
            Ok(transcript) => replay(&site, &transcript, &mut out).await?,
            Err(error) => {
                bad_lines += 1;
                eprintln!("baton signals: line {}: not a conversation ({error}); skipped", index + 1);
            }
        }
    }
    out.flush().context("Failed to write stdout")?;
    if bad_lines > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// The live server judges each visitor turn while the bot has the conversation; once it
/// escalates, the conversation stays with people, and so does every later line here.
async fn replay(site: &Site, transcript: &Transcript, out: &mut impl Write) -> anyhow::Result<()> {
    let mut state = PolicyState::default();
    let mut escalated: Option<Reason> = None;
    for (index, current) in transcript.turns.iter().enumerate().filter(|(_, t)| t.role == Role::Visitor) {
        let history: Vec<Turn> =
            transcript.turns[..index].iter().map(|t| Turn { role: t.role, text: &t.text }).collect();
        site.prepare_search(&[current.text.as_str()]).await;
        let evaluated = turn::evaluate(site, &history, &current.text, TurnFacts::default(), &mut state);
        if let (None, Decision::Escalate { reason, .. }) = (escalated, &evaluated.decision) {
            escalated = Some(*reason);
        }
        let signals = &evaluated.signals;
        let line = TurnLine {
            id: &transcript.id,
            turn: index,
            sentiment: signals.sentiment,
            sentiment_trend: signals.sentiment_trend,
            explicit_request: signals.explicit_request,
            confidence: signals.confidence,
            escalate: escalated.is_some(),
            reason: escalated,
        };
        serde_json::to_writer(&mut *out, &line).context("Failed to write stdout")?;
        writeln!(out).context("Failed to write stdout")?;
    }
    Ok(())
}

/// `baton privacy export|erase --email E | --user-id U`: prints one JSON object.
pub async fn privacy(settings: Settings, command: PrivacyCommand) -> anyhow::Result<()> {
    use crate::archive::request;
    let answer = match &command {
        PrivacyCommand::Export(args) => request::export(&settings, &args.subject()).await?,
        PrivacyCommand::Erase(EraseArgs { subject, server: None }) => {
            request::erase(&settings, &subject.subject()).await?
        }
        PrivacyCommand::Erase(EraseArgs { subject, server: Some(server) }) => {
            let token = std::env::var("BATON_ADMIN_TOKEN")
                .context("--server needs an admin agent's token in BATON_ADMIN_TOKEN")?;
            request::remote_erase(server, &token, &subject.subject()).await?
        }
    };
    println!("{answer}");
    Ok(())
}

/// `baton keys create --site SITE --scope SCOPE`: the key is the last line printed.
pub async fn keys(settings: Settings, command: KeysCommand) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;

    use crate::archive::Archive;
    use crate::archive::keys::Scope;
    let KeysCommand::Create(args) = command;
    settings.site(&args.site).with_context(|| format!("no site {:?} in the configuration", args.site))?;
    let scope = Scope::parse(&args.scope).context("scope must be read, write or admin")?;
    let archive = crate::archive::sql::SqlArchive::connect(settings.archive.url.expose_secret()).await?;
    archive.migrate().await.context("Failed to open the archive")?;
    let (record, secret) =
        archive.create_key(&args.site, scope, args.name.trim()).await.context("Failed to store the key")?;
    println!("{}", serde_json::to_string(&record).context("Failed to print the key")?);
    println!("{secret}");
    Ok(())
}

/// Conversations read from the archive per page of `baton export`.
const EXPORT_PAGE: usize = 200;

/// `baton export [--site SITE] [--since RFC3339]`: the archive, as JSON lines on stdout.
/// `baton signals --site SITE --tune`: one JSON line per threshold with a proposal (see
/// [`crate::escalation::tune`]), then a readable summary on stderr.
pub async fn tune(settings: Settings, args: SignalsArgs) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;

    use crate::archive::Archive;
    let config = settings.site(&args.site).with_context(|| format!("no site {:?} in the configuration", args.site))?;
    let archive = crate::archive::sql::SqlArchive::connect(settings.archive.url.expose_secret()).await?;
    archive.migrate().await.context("Failed to open the archive")?;
    let judged = archive.judged(&config.id).await.context("Failed to read the archive")?;
    let proposals = crate::escalation::tune::propose(&config.escalation, &judged);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for p in &proposals {
        serde_json::to_writer(&mut out, p).context("Failed to write stdout")?;
        writeln!(out).context("Failed to write stdout")?;
        eprintln!(
            "{}: {} -> {} ({} judged escalations: {} decisions right now, {} with the change; {} moved; {} 'should have come sooner')",
            p.knob,
            p.current,
            p.proposed,
            p.judged,
            p.right_now,
            p.right_proposed,
            p.moved.len(),
            p.late
        );
        for m in &p.moved {
            let now = if m.escalates { "would now escalate" } else { "would no longer escalate" };
            eprintln!("  {} (value {}, judged {}): {now}", m.conversation_id, m.value, m.verdict);
        }
    }
    if proposals.is_empty() {
        eprintln!("no judged escalation of {} carries a threshold's signal yet: nothing to propose", config.id);
    }
    out.flush().context("Failed to write stdout")
}

pub async fn export(settings: Settings, args: ExportArgs) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;

    use crate::archive::{Archive, ExportFilter};
    let archive = crate::archive::sql::SqlArchive::connect(settings.archive.url.expose_secret()).await?;
    archive.migrate().await.context("Failed to open the archive")?;
    let filter = ExportFilter { site: args.site, since: args.since };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut cursor = None;
    loop {
        let page = archive.export(&filter, cursor.as_ref(), EXPORT_PAGE).await.context("Failed to read the archive")?;
        for conversation in &page {
            serde_json::to_writer(&mut out, conversation).context("Failed to write stdout")?;
            writeln!(out).context("Failed to write stdout")?;
        }
        match page.last() {
            Some(last) if page.len() == EXPORT_PAGE => cursor = Some(last.cursor()),
            _ => break,
        }
    }
    out.flush().context("Failed to write stdout")
}
