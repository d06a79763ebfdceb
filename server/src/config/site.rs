//! One site per `sites/SITE.toml`; its knowledge base is the Markdown under `sites/SITE/kb/`.
//! Adding a site is adding a file and a folder: nothing else names sites.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use super::hours::{Hours, HoursConfig};
use super::{OriginPattern, SiteAttachments};
use crate::escalation::PolicyConfig;
use crate::knowledge::KnowledgeOptions;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The file name without `.toml`; what `?site=` names.
    #[serde(skip)]
    pub id: String,
    /// Where the knowledge base lives: `sites/SITE/kb/`.
    #[serde(skip)]
    pub kb_dir: PathBuf,
    /// Shown in the widget header.
    pub title: String,
    /// Browser origins allowed to open a visitor socket (see [`OriginPattern`]).
    pub allowed_origins: Vec<String>,
    #[serde(skip)]
    pub origins: Vec<OriginPattern>,
    pub persona: Persona,
    #[serde(default)]
    pub widget: WidgetLook,
    #[serde(default)]
    pub knowledge: KnowledgeOptions,
    #[serde(default)]
    pub llm: SiteLlm,
    #[serde(default)]
    pub bot: BotBehaviour,
    /// When and why the conversation goes to a person (see `docs/escalation.md`).
    #[serde(default)]
    pub escalation: PolicyConfig,
    /// Who takes escalated chats, and when.
    #[serde(default)]
    pub handoff: SiteHandoff,
    /// How long the archive keeps this site's conversations (see `docs/data.md`).
    #[serde(default)]
    pub archive: SiteArchive,
    /// Baton's notices to the visitor, replaced per locale: `[notices.fr] no_agents = "…"`
    /// (see `docs/notices.md`).
    #[serde(default)]
    pub notices: std::collections::BTreeMap<String, super::notices::NoticeTexts>,
    /// Files visitors and agents may send (see `docs/attachments.md`).
    #[serde(default)]
    pub attachments: SiteAttachments,
    /// The secret the site's backend signs visitors' `user_id`s with (HMAC-SHA256); unset:
    /// every identity is unverified. Never printed or logged.
    #[serde(default)]
    pub identity_secret: Option<secrecy::SecretString>,
    /// A verified visitor starting a new conversation sees their conversations of the last
    /// this many days (0: none).
    #[serde(default = "default_history_days")]
    pub identity_history_days: u32,
    /// What is masked before text reaches a model, the logs or the archive.
    #[serde(default)]
    pub privacy: SitePrivacy,
    /// How the reports count this site's conversations (see `docs/data.md`).
    #[serde(default)]
    pub reports: SiteReports,
    /// Nudging and resolving idle chats, and the SLA on waiting ones (`docs/proactive.md`).
    #[serde(default)]
    pub inactivity: super::inactivity::SiteInactivity,
    /// Messages the widget opens with (`[[proactive]]`, `docs/proactive.md`).
    #[serde(default)]
    pub proactive: Vec<super::proactive::ProactiveTrigger>,
    /// Endpoints of the site's backend the model may call (see `docs/actions.md`).
    #[serde(default)]
    pub actions: Vec<super::ActionConfig>,
}

fn default_history_days() -> u32 {
    30
}

/// Redaction (see [`crate::redact`] and `docs/data.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SitePrivacy {
    /// The kinds masked in prompts to a model and in logs: any of `email`, `phone`, `card`,
    /// `iban`, `national_id` (default: all; `[]`: none).
    pub redact: Vec<crate::redact::Kind>,
    /// Mask them in the archive too (what exports and the console's archive show). The live
    /// chat always shows what the visitor typed.
    pub redact_archive: bool,
}

impl Default for SitePrivacy {
    fn default() -> Self {
        SitePrivacy { redact: crate::redact::Kind::ALL.to_vec(), redact_archive: false }
    }
}

impl SitePrivacy {
    pub fn redactor(&self) -> crate::redact::Redactor {
        crate::redact::Redactor::new(&self.redact)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteReports {
    /// A conversation resolved with no person counts as resolved by the bot unless the
    /// visitor reopens it within this many seconds of the resolution.
    pub reopen_window_secs: u64,
}

impl Default for SiteReports {
    fn default() -> SiteReports {
        SiteReports { reopen_window_secs: 24 * 3600 }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteArchive {
    /// Conversations idle (no new event) for longer than this many days are deleted from
    /// the archive (unset: kept).
    pub retention_days: Option<u32>,
}

/// A site's waiting chats at most, by default: as many as an agent's queue snapshot lists
/// (`agents::views::MAX_QUEUE_ITEMS`), so every agent can always see the whole line.
pub const DEFAULT_MAX_QUEUE: usize = 200;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteHandoff {
    /// `least_busy` (default), `round_robin`, or `manual` (agents pick from the queue).
    pub routing: Routing,
    /// The team that takes this site's chats (unset: any agent).
    pub team: Option<String>,
    /// Sensitive topics that go to a team of their own, e.g. `{ legal = "legal" }`.
    pub topic_teams: std::collections::BTreeMap<String, String>,
    /// The bot keeps answering while the visitor waits for a person.
    pub bot_while_queued: bool,
    /// At most this many of the site's chats wait for a person at once. A chat that would
    /// be one more stays with the bot and its visitor is told nobody can take it now, with
    /// the leave-a-message reply (0: no chat waits; every visitor is offered that).
    pub max_queue: usize,
    /// When people staff the chat (unset: always).
    pub hours: Option<HoursConfig>,
    #[serde(skip)]
    pub parsed_hours: Option<Hours>,
    /// Ready-made replies agents can insert.
    pub canned: Vec<Canned>,
    /// Told at once when no agent is online, all are at capacity, or it is outside hours.
    pub no_agents: String,
    pub outside_hours: String,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Canned {
    pub title: String,
    pub text: String,
}

impl Default for SiteHandoff {
    fn default() -> Self {
        SiteHandoff {
            routing: Routing::default(),
            team: None,
            topic_teams: Default::default(),
            bot_while_queued: true,
            max_queue: DEFAULT_MAX_QUEUE,
            hours: None,
            parsed_hours: None,
            canned: Vec::new(),
            no_agents: "Everyone on our team is busy or away right now, so no one can join this chat. Leave your email and message and we'll get back to you.".into(),
            outside_hours: "Our team is not in right now. Leave your email and message and we'll get back to you when we're back.".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    pub bot_name: String,
    /// The brand voice: goes first in every prompt to the model.
    pub system_prompt: String,
    /// The bot's first message in a new conversation.
    pub greeting: String,
    /// Tells the visitor they are talking to an AI; sent in `welcome` and shown by the widget.
    pub ai_notice: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WidgetLook {
    pub color: String,
    /// `right` or `left`.
    pub position: String,
    /// Default UI language when the visitor's browser gives none we support.
    pub locale: String,
}

impl Default for WidgetLook {
    fn default() -> Self {
        WidgetLook { color: "#2457d6".into(), position: "right".into(), locale: "en".into() }
    }
}

/// Per-site overrides of the global `[llm]` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteLlm {
    pub model: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub timeout_secs: Option<u64>,
    /// Tokens the site's model requests may use in any 24 hours, across every node (replies,
    /// summaries, drafts); unset: no cap. See `bot::budget`.
    pub daily_token_budget: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BotBehaviour {
    /// Below this knowledge-base confidence the offline answerer says it has no answer
    /// instead of quoting a weak match.
    pub min_confidence: f32,
    /// Text when nothing in the knowledge base matches (offline answerer).
    pub no_answer: String,
    /// Text when the model failed (timeout, error, broken stream).
    pub error_message: String,
    /// A visitor whose chat the bot alone handled is asked for a rating after this long
    /// without a frame either way on their socket (seconds; 0: only when they end the chat).
    pub rating_after_idle_secs: u64,
}

impl Default for BotBehaviour {
    fn default() -> Self {
        BotBehaviour {
            min_confidence: 0.45,
            no_answer: "I couldn't find anything about that in our help pages. You can ask me about something else, or talk to a person.".into(),
            error_message: "Sorry, I'm having trouble answering right now. Please try again in a moment, or ask to talk to a person.".into(),
            rating_after_idle_secs: 300,
        }
    }
}

/// Reads every `*.toml` directly under `dir`, sorted by name. A missing folder means no sites.
pub fn load_all(dir: &Path) -> anyhow::Result<Vec<SiteConfig>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "no sites folder: no site can be served");
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|path| load(path)).collect()
}

pub fn load(path: &Path) -> anyhow::Result<SiteConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("Failed to read {}", path.display()))?;
    // unwrap: the path came from a directory listing filtered on the `.toml` extension.
    let id = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut site = from_text(&id, &text).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    site.kb_dir = path.with_extension("").join("kb");
    Ok(site)
}

/// One site file's text, parsed and validated as site `id` (its file name without `.toml`).
pub fn from_text(id: &str, text: &str) -> Result<SiteConfig, String> {
    let mut site = parse(text)?;
    site.id = id.to_owned();
    site.validate()?;
    Ok(site)
}

/// Parses one site file; the error names the key (`persona.greeting: invalid type …`).
fn parse(text: &str) -> Result<SiteConfig, String> {
    let deserializer = toml::Deserializer::parse(text).map_err(|e| e.to_string())?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        format!("key `{key}`: {}", e.into_inner().message())
    })
}

impl SiteConfig {
    fn validate(&mut self) -> Result<(), String> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(format!("site id {:?} (the file name) must be 1-64 of a-z, 0-9, - and _", self.id));
        }
        self.origins = self
            .allowed_origins
            .iter()
            .enumerate()
            .map(|(i, p)| OriginPattern::parse(p).map_err(|why| format!("key `allowed_origins[{i}]`: {why}")))
            .collect::<Result<_, _>>()?;
        let persona = [
            ("persona.bot_name", &self.persona.bot_name),
            ("persona.system_prompt", &self.persona.system_prompt),
            ("persona.greeting", &self.persona.greeting),
            ("persona.ai_notice", &self.persona.ai_notice),
            ("title", &self.title),
        ];
        if let Some((key, _)) = persona.iter().find(|(_, value)| value.trim().is_empty()) {
            return Err(format!("key `{key}` must not be empty"));
        }
        if self.llm.daily_token_budget == Some(0) {
            return Err("key `llm.daily_token_budget` must be positive (leave it unset for no cap)".into());
        }
        if let Some(t) = self.llm.temperature.filter(|t| !(0.0..=2.0).contains(t)) {
            return Err(format!("key `llm.temperature` must lie in 0..=2, got {t}"));
        }
        if !(0.0..=1.0).contains(&self.bot.min_confidence) {
            return Err("key `bot.min_confidence` must lie in 0..=1".into());
        }
        if let Some(hours) = &self.handoff.hours {
            self.handoff.parsed_hours = Some(Hours::parse(hours).map_err(|why| format!("key `handoff.hours`: {why}"))?);
        }
        self.attachments.validate()?;
        if self.widget.position != "right" && self.widget.position != "left" {
            return Err("key `widget.position` must be \"right\" or \"left\"".into());
        }
        super::notices::check_locales(self.notices.keys())?;
        self.inactivity.validate()?;
        super::proactive::validate(&self.proactive)?;
        super::actions::validate_all(&mut self.actions)?;
        Ok(())
    }

    /// `None` (no `Origin` header: not a browser) is allowed; browsers always send one.
    pub fn allows_origin(&self, origin: Option<&str>) -> bool {
        origin.is_none_or(|origin| self.origins.iter().any(|p| p.matches(origin)))
    }
}

/// How a site's waiting chats reach agents (`handoff.routing`; the rules are in
/// `agents::routing`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Routing {
    /// The agent with the fewest chats (the default).
    #[default]
    LeastBusy,
    /// Agents take turns in order of their ids.
    RoundRobin,
    /// No automatic assignment: agents pick from the queue.
    Manual,
}

#[cfg(test)]
mod tests {
    use super::parse;

    const MINIMAL: &str = r#"
title = "Shop"
allowed_origins = ["https://shop.example"]
[persona]
bot_name = "Nori"
system_prompt = "Be kind."
greeting = "Hi"
ai_notice = "AI here"
"#;

    #[test]
    fn a_minimal_site_parses_with_defaults() {
        let site = parse(MINIMAL).unwrap();
        assert_eq!(site.widget.position, "right");
        assert!(site.llm.model.is_none());
    }

    #[test]
    fn the_identity_secret_is_read_but_never_printed() {
        let with_secret = format!("identity_secret = \"hunter2-identity\"\n{MINIMAL}");
        let site = parse(&with_secret).unwrap();
        assert!(site.identity_secret.is_some());
        assert_eq!(site.identity_history_days, 30);
        assert!(!format!("{site:?}").contains("hunter2-identity"), "Debug shows the secret");
        assert!(parse(MINIMAL).unwrap().identity_secret.is_none());
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let bad = MINIMAL.replace("bot_name = \"Nori\"", "bot_name = 3");
        let error = parse(&bad).unwrap_err();
        assert!(error.contains("persona.bot_name"), "{error}");
    }

    #[test]
    fn an_unknown_key_is_an_error_not_silently_ignored() {
        let bad = format!("{MINIMAL}\n[llm]\ntemprature = 0.3\n");
        let error = parse(&bad).unwrap_err();
        assert!(error.contains("temprature"), "{error}");
    }
}
