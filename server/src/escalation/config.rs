//! A site's escalation policy, as written under `[escalation]` in its TOML file.
//!
//! Every field has a default, so a site that writes nothing gets a policy that works:
//! the values and the reasons for them are in `docs/escalation.md`. Unknown keys are an
//! error, so a typo ("negative_sentimment") is reported at load time instead of silently
//! keeping the default.

use serde::{Deserialize, Serialize};

use crate::signals::TopicRule;

/// The escalation policy of one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Soft reasons (sentiment, confidence, repeats) first offer a person with a quick
    /// reply, once per conversation, and escalate only if things then get worse.
    /// `false`: they escalate at once, like the hard reasons always do.
    pub offer_first: bool,
    /// A turn whose sentiment is at or below this is negative (−1 … 0).
    pub negative_sentiment: f32,
    /// A conversation whose mood (sentiment trend) is at or below this is negative.
    pub negative_trend: f32,
    /// Knowledge-base or model confidence below this is low (0 … 1; 0 disables).
    pub low_confidence: f32,
    /// After an offer, escalate when the escalation score exceeds the score at the offer
    /// by more than this (0 … 1).
    pub worse_by: f32,
    /// Escalate once the bot has replied this many times (0: no limit).
    pub max_bot_turns: u32,
    /// Escalate once this many bot replies have failed (0: never for this reason).
    pub max_bot_errors: u32,
    /// Queue priority (0 … 9) of each reason; a topic uses its own rule's priority.
    pub priorities: Priorities,
    /// Sensitive topics that escalate at once. Replaces the defaults when written;
    /// `topics = []` turns them off.
    pub topics: Vec<TopicRule>,
    /// What the visitor is told when the conversation goes to a person, per reason.
    pub messages: Messages,
    /// The bot message that offers a person.
    pub offer_text: String,
    /// The label of the offer's quick reply.
    pub offer_action_label: String,
}

/// Queue priority per reason, 0 (lowest) … 9.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Priorities {
    pub explicit_request: u8,
    pub negative_sentiment: u8,
    pub low_confidence: u8,
    pub repeated_question: u8,
    pub bot_error: u8,
    pub max_turns: u8,
    pub model_handoff: u8,
}

/// Visitor-facing text per reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Messages {
    pub explicit_request: String,
    pub negative_sentiment: String,
    pub low_confidence: String,
    pub repeated_question: String,
    pub topic: String,
    pub bot_error: String,
    pub max_turns: String,
    pub transfer: String,
    pub model_handoff: String,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            offer_first: true,
            negative_sentiment: -0.5,
            negative_trend: -0.25,
            low_confidence: 0.35,
            worse_by: 0.0,
            max_bot_turns: 20,
            max_bot_errors: 2,
            priorities: Priorities::default(),
            topics: default_topics(),
            messages: Messages::default(),
            offer_text: "I may not be getting this right. Would you like to talk to a person?".to_string(),
            offer_action_label: "Talk to a person".to_string(),
        }
    }
}

impl Default for Priorities {
    fn default() -> Self {
        Priorities {
            explicit_request: 5,
            negative_sentiment: 6,
            low_confidence: 3,
            repeated_question: 4,
            bot_error: 5,
            max_turns: 3,
            model_handoff: 4,
        }
    }
}

impl Default for Messages {
    fn default() -> Self {
        let text = |s: &str| s.to_string();
        Messages {
            explicit_request: text("Of course. I'm connecting you with a person now."),
            negative_sentiment: text("I'm sorry about this. A person from our team will take over."),
            low_confidence: text("I'm not sure I can answer this well, so I'm passing you to a person."),
            repeated_question: text("Sorry I couldn't answer that. A person will help you from here."),
            topic: text("A member of our team will take care of this personally."),
            bot_error: text("Something went wrong on my side. A person will take over."),
            max_turns: text("Let me bring in a person to help you finish this."),
            transfer: text("You're being transferred to a colleague."),
            model_handoff: text("I think a person can help you better with this. I'm passing you to our team."),
        }
    }
}

fn topic(name: &str, priority: u8, phrases: &[&str], patterns: &[&str]) -> TopicRule {
    TopicRule {
        name: name.to_string(),
        priority,
        phrases: phrases.iter().map(|s| s.to_string()).collect(),
        patterns: patterns.iter().map(|s| s.to_string()).collect(),
    }
}

/// Topics that most sites want a person for; each site may replace them.
pub fn default_topics() -> Vec<TopicRule> {
    vec![
        topic(
            "safety",
            9,
            &[
                "suicide",
                "kill myself",
                "hurt myself",
                "self harm",
                "end my life",
                "suicidio",
                "suicidarme",
                "me suicider",
                "selbstmord",
                "suizid",
                "mich umbringen",
                "me matar",
                "uccidermi",
                "zelfmoord",
                "sinucidere",
                "samobójstwo",
                "pašnāvība",
                "самоубийство",
                "自杀",
                "轻生",
            ],
            &[],
        ),
        topic(
            "legal",
            8,
            &[
                "lawyer",
                "attorney",
                "lawsuit",
                "sue you",
                "legal action",
                "take you to court",
                "abogado",
                "demanda judicial",
                "demandaros",
                "avocat",
                "poursuites",
                "anwalt",
                "rechtsanwalt",
                "verklagen",
                "klage einreichen",
                "advogado",
                "processar",
                "avvocato",
                "advocaat",
                "rechtszaak",
                "avocatul",
                "prawnik",
                "pozew",
                "advokāts",
                "адвокат",
                "律师",
                "起诉",
            ],
            &[],
        ),
        topic(
            "chargeback",
            7,
            &[
                "chargeback",
                "charge back",
                "dispute the charge",
                "contracargo",
                "rétrofacturation",
                "rückbuchung",
                "estorno",
                "storno",
                "terugboeking",
                "拒付",
            ],
            &[],
        ),
        topic(
            "cancellation",
            4,
            &[
                "cancel my subscription",
                "cancel my account",
                "close my account",
                "darme de baja",
                "résilier",
                "kündigen",
                "kündigung",
                "cancelar minha assinatura",
                "disdire",
                "opzeggen",
                "取消订阅",
                "注销账户",
            ],
            &[],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Site {
        escalation: PolicyConfig,
    }

    #[test]
    fn a_site_that_writes_nothing_gets_the_defaults() {
        let site: Site = toml::from_str("[escalation]").expect("valid");
        assert_eq!(site.escalation, PolicyConfig::default());
    }

    #[test]
    fn a_site_overrides_only_what_it_writes() {
        let site: Site = toml::from_str(
            r#"
            [escalation]
            offer_first = false
            negative_sentiment = -0.7
            [escalation.messages]
            topic = "Un instant, je vous passe un collègue."
            [[escalation.topics]]
            name = "refund"
            priority = 6
            phrases = ["refund", "remboursement"]
            "#,
        )
        .expect("valid");
        let config = site.escalation;
        assert!(!config.offer_first);
        assert_eq!(config.negative_sentiment, -0.7);
        assert_eq!(config.negative_trend, PolicyConfig::default().negative_trend);
        assert_eq!(config.messages.topic, "Un instant, je vous passe un collègue.");
        assert_eq!(config.messages.bot_error, Messages::default().bot_error);
        assert_eq!(config.topics.len(), 1);
    }

    #[test]
    fn a_misspelt_key_is_an_error_not_a_silent_default() {
        let result = toml::from_str::<Site>("[escalation]\nnegative_sentimment = -0.2");
        assert!(result.is_err());
    }
}
