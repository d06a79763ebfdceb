//! Every notice Baton itself writes to a visitor (a `system` message, or the bot's offer of
//! a person), in the conversation's language: the `hello` locale, else the language detected
//! in the visitor's messages, else the site's own (`widget.locale`).
//!
//! A text is found, in order, in the site's `[notices.LOCALE]`, then (in the site's own
//! language only) the older per-site keys that predate locales (`escalation.messages`,
//! `handoff.no_agents`, …, which default to the English built-ins), then the built-in texts
//! of the locale (one data file each, next to this one, embedded at compile time), then the
//! English built-in.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::config::SiteConfig;
use crate::config::notices::{NOTICE_LOCALES, NoticeKey, NoticeTexts};
use crate::protocol::Reason;
use crate::store::Conversation;

/// One notice, with what goes into its placeholders.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    /// The conversation went to people for this reason.
    Escalated(Reason),
    Offer,
    OfferAction,
    /// The offer of a person to an upset visitor, with an apology.
    ApologyOffer,
    NoAgents,
    OutsideHours,
    LeaveMessageAction,
    LeftMessage {
        email: String,
    },
    /// A transfer to a person, of a team when `team` is set.
    TransferToAgent {
        name: String,
        team: Option<String>,
    },
    TransferToTeam {
        team: String,
    },
    AgentLeft,
    BackInQueue,
    ModelFailure,
    ActionProgress,
    ActionFailed,
    ModelBudget,
    QueueFull,
    /// A person took the chat: said when they take it, not when routing assigns it.
    AgentJoined {
        name: String,
    },
    HandedBack,
    Resolved,
    IdleNudge,
    IdleResolved,
    /// The help pages are in another language than the visitor's (English or not).
    HelpPagesLanguage {
        english: bool,
    },
    /// A part of an email to the visitor ([`crate::mail::letters`]), with its placeholders'
    /// values in the order they are filled (what the visitor or agent wrote goes last, so
    /// braces in it are never filled in).
    Email {
        key: NoticeKey,
        vars: Vec<(&'static str, String)>,
    },
}

impl Notice {
    /// The notice's key as the files and the wire (`message.notice`) spell it.
    pub fn name(&self) -> &'static str {
        self.key().name()
    }

    fn key(&self) -> NoticeKey {
        match self {
            Notice::Escalated(reason) => match reason {
                Reason::ExplicitRequest => NoticeKey::ExplicitRequest,
                Reason::NegativeSentiment => NoticeKey::NegativeSentiment,
                Reason::LowConfidence => NoticeKey::LowConfidence,
                Reason::RepeatedQuestion => NoticeKey::RepeatedQuestion,
                Reason::Topic => NoticeKey::Topic,
                Reason::BotError => NoticeKey::BotError,
                Reason::MaxTurns => NoticeKey::MaxTurns,
                Reason::Transfer => NoticeKey::Transfer,
                Reason::ModelHandoff => NoticeKey::ModelHandoff,
            },
            Notice::Offer => NoticeKey::Offer,
            Notice::OfferAction => NoticeKey::OfferAction,
            Notice::ApologyOffer => NoticeKey::ApologyOffer,
            Notice::NoAgents => NoticeKey::NoAgents,
            Notice::OutsideHours => NoticeKey::OutsideHours,
            Notice::LeaveMessageAction => NoticeKey::LeaveMessageAction,
            Notice::LeftMessage { .. } => NoticeKey::LeftMessage,
            Notice::TransferToAgent { team: None, .. } => NoticeKey::TransferToAgent,
            Notice::TransferToAgent { team: Some(_), .. } => NoticeKey::TransferToAgentTeam,
            Notice::TransferToTeam { .. } => NoticeKey::TransferToTeam,
            Notice::AgentLeft => NoticeKey::AgentLeft,
            Notice::BackInQueue => NoticeKey::BackInQueue,
            Notice::ModelFailure => NoticeKey::ModelFailure,
            Notice::ActionProgress => NoticeKey::ActionProgress,
            Notice::ActionFailed => NoticeKey::ActionFailed,
            Notice::ModelBudget => NoticeKey::ModelBudget,
            Notice::QueueFull => NoticeKey::QueueFull,
            Notice::AgentJoined { .. } => NoticeKey::AgentJoined,
            Notice::HandedBack => NoticeKey::HandedBack,
            Notice::Resolved => NoticeKey::Resolved,
            Notice::IdleNudge => NoticeKey::IdleNudge,
            Notice::IdleResolved => NoticeKey::IdleResolved,
            Notice::HelpPagesLanguage { english: true } => NoticeKey::KbInEnglish,
            Notice::HelpPagesLanguage { english: false } => NoticeKey::KbOtherLanguage,
            Notice::Email { key, .. } => *key,
        }
    }

    fn vars(&self) -> Vec<(&'static str, &str)> {
        match self {
            Notice::LeftMessage { email } => vec![("email", email)],
            Notice::TransferToAgent { name, team } => {
                let mut vars = vec![("name", name.as_str())];
                vars.extend(team.as_deref().map(|t| ("team", t)));
                vars
            }
            Notice::TransferToTeam { team } => vec![("team", team)],
            Notice::AgentJoined { name } => vec![("name", name)],
            Notice::Email { vars, .. } => vars.iter().map(|(name, value)| (*name, value.as_str())).collect(),
            _ => Vec::new(),
        }
    }
}

/// The built-in texts, per locale. Every file has every key (a unit test checks it).
static BUILT_IN: LazyLock<HashMap<&'static str, NoticeTexts>> = LazyLock::new(|| {
    NOTICE_LOCALES
        .iter()
        .map(|&locale| {
            let texts = toml::from_str(file(locale)).unwrap_or_else(|error| {
                // A broken built-in file fails the unit tests; in a release, English still speaks.
                tracing::error!(locale, %error, "built-in notices unreadable");
                NoticeTexts::default()
            });
            (locale, texts)
        })
        .collect()
});

fn file(locale: &str) -> &'static str {
    match locale {
        "es" => include_str!("es.toml"),
        "fr" => include_str!("fr.toml"),
        "de" => include_str!("de.toml"),
        "pt" => include_str!("pt.toml"),
        "it" => include_str!("it.toml"),
        "nl" => include_str!("nl.toml"),
        "ro" => include_str!("ro.toml"),
        "bg" => include_str!("bg.toml"),
        "lv" => include_str!("lv.toml"),
        "pl" => include_str!("pl.toml"),
        "zh" => include_str!("zh.toml"),
        "ru" => include_str!("ru.toml"),
        "tr" => include_str!("tr.toml"),
        "ja" => include_str!("ja.toml"),
        "hi" => include_str!("hi.toml"),
        "ar" => include_str!("ar.toml"),
        "he" => include_str!("he.toml"),
        _ => include_str!("en.toml"),
    }
}

/// The supported locale a BCP 47 tag or ISO code names (`fr-CA` → `fr`), if any.
pub fn supported(tag: &str) -> Option<&'static str> {
    let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    NOTICE_LOCALES.iter().copied().find(|l| *l == primary)
}

/// The language Baton writes to this conversation's visitor in.
pub fn conversation_language(site: &SiteConfig, conversation: &Conversation) -> &'static str {
    let detected = conversation.records.signals.as_ref().map(|s| s.language.as_str());
    language(site, conversation.visitor.locale.as_deref(), detected)
}

/// The `hello` locale if Baton has it, else the language detected in the visitor's latest
/// message, else the site's own.
pub fn language(site: &SiteConfig, locale: Option<&str>, detected: Option<&str>) -> &'static str {
    let from_hello = locale.and_then(supported);
    from_hello.or_else(|| detected.and_then(supported)).or_else(|| supported(&site.widget.locale)).unwrap_or("en")
}

/// The notice's text in `locale`, with its placeholders filled.
pub fn text(site: &SiteConfig, locale: &str, notice: &Notice) -> String {
    let key = notice.key();
    let own = || site.notices.get(locale).and_then(|t| t.get(key)).map(str::to_owned);
    let older = || (supported(&site.widget.locale) == Some(locale)).then(|| older_key(site, key)).flatten();
    let built_in = |l: &str| BUILT_IN.get(l).and_then(|t| t.get(key)).map(str::to_owned);
    let template = own().or_else(older).or_else(|| built_in(locale)).or_else(|| built_in("en")).unwrap_or_default();
    notice.vars().into_iter().fold(template, |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
}

/// The per-site keys that predate `[notices]`: they speak the site's own language.
fn older_key(site: &SiteConfig, key: NoticeKey) -> Option<String> {
    let m = &site.escalation.messages;
    let text = match key {
        NoticeKey::ExplicitRequest => &m.explicit_request,
        NoticeKey::NegativeSentiment => &m.negative_sentiment,
        NoticeKey::LowConfidence => &m.low_confidence,
        NoticeKey::RepeatedQuestion => &m.repeated_question,
        NoticeKey::Topic => &m.topic,
        NoticeKey::BotError => &m.bot_error,
        NoticeKey::MaxTurns => &m.max_turns,
        NoticeKey::Transfer => &m.transfer,
        NoticeKey::ModelHandoff => &m.model_handoff,
        NoticeKey::Offer => &site.escalation.offer_text,
        NoticeKey::OfferAction => &site.escalation.offer_action_label,
        NoticeKey::NoAgents => &site.handoff.no_agents,
        NoticeKey::OutsideHours => &site.handoff.outside_hours,
        NoticeKey::ModelFailure => &site.bot.error_message,
        _ => return None,
    };
    Some(text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_every_notice_and_only_its_own_placeholders() {
        for locale in NOTICE_LOCALES {
            let texts: NoticeTexts = toml::from_str(file(locale)).unwrap_or_else(|e| panic!("{locale}: {e}"));
            for &key in NoticeKey::ALL {
                let text = texts.get(key).unwrap_or_else(|| panic!("{locale} lacks {}", key.name()));
                let english = BUILT_IN["en"].get(key).unwrap();
                let holes = |t: &str| t.matches('{').count();
                assert_eq!(holes(text), holes(english), "{locale}.{}: placeholders differ from English", key.name());
            }
        }
    }

    fn site(extra: &str) -> SiteConfig {
        let toml = format!(
            "title = \"T\"\nallowed_origins = []\n[persona]\nbot_name = \"B\"\nsystem_prompt = \"S\"\n\
             greeting = \"G\"\nai_notice = \"A\"\n{extra}"
        );
        toml::from_str(&toml).unwrap()
    }

    #[test]
    fn a_locale_tag_maps_to_its_language() {
        assert_eq!(supported("fr-CA"), Some("fr"));
        assert_eq!(supported("pt_BR"), Some("pt"));
        assert_eq!(supported("und"), None);
        assert_eq!(supported("ja-JP"), Some("ja"));
        assert_eq!(supported("ko"), None);
    }

    #[test]
    fn placeholders_are_filled() {
        let site = site("[notices.fr]\nno_agents = \"Personne ici.\"\n");
        assert_eq!(text(&site, "fr", &Notice::NoAgents), "Personne ici.");
        assert!(text(&site, "de", &Notice::NoAgents).starts_with("Unser ganzes Team"));
        let notice = Notice::TransferToAgent { name: "Ana".into(), team: Some("billing".into()) };
        assert_eq!(text(&site, "en", &notice), "Ana from billing will continue this chat with you.");
        assert_eq!(text(&site, "fr", &notice), "Ana, de l'équipe billing, va poursuivre cette discussion avec vous.");
    }
}
