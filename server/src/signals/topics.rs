//! Sensitive topics: per-site rules that send a conversation to a person at once.
//!
//! A site knows which subjects its bot must not handle alone: a legal threat, a
//! chargeback, a cancellation that sales wants to save, a safety concern. Each rule has
//! phrases (matched on whole words, folded like every other signal, so "Anwält" or
//! "ABOGADO" need no variants) and optional regular expressions for what phrases cannot
//! say ("cancel+ my (plan|subscription)"). Patterns are compiled once per site, when the
//! site's configuration is loaded, and a bad one is a configuration error, not a panic.

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use super::SignalsError;
use super::markers::joined;
use super::text::{is_han, tokenize};

/// Longest accepted pattern, in bytes: a guard against pasting a whole document.
const MAX_PATTERN_BYTES: usize = 1_000;

/// A site's rule for one sensitive topic, as written in its `[[escalation.topics]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicRule {
    /// Shown to agents and owners as the escalation's topic ("legal", "chargeback").
    pub name: String,
    /// Queue priority of the escalation, 0 (lowest) to 9; the highest matching rule wins.
    pub priority: u8,
    /// Words or phrases, any language, matched on whole words ignoring case and accents.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Regular expressions (Rust `regex` syntax), matched case-insensitively on the text.
    #[serde(default)]
    pub patterns: Vec<String>,
}

/// The topic a turn touched, with the rule's priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMatch {
    pub name: String,
    pub priority: u8,
}

/// A rule ready to match: phrases tokenised, patterns compiled.
#[derive(Debug)]
pub(crate) struct CompiledTopic {
    name: String,
    priority: u8,
    phrases: Vec<String>,
    patterns: Vec<Regex>,
}

impl CompiledTopic {
    pub(crate) fn compile(rule: &TopicRule) -> Result<CompiledTopic, SignalsError> {
        let name = rule.name.trim();
        if name.is_empty() {
            return Err(SignalsError::EmptyTopicName);
        }
        if rule.priority > 9 {
            return Err(SignalsError::TopicPriority { topic: name.to_string(), priority: rule.priority });
        }
        let phrases: Vec<String> =
            rule.phrases.iter().map(|p| joined(&tokenize(p))).filter(|p| !p.trim().is_empty()).collect();
        let patterns = rule.patterns.iter().map(|p| compile_pattern(name, p));
        let patterns = patterns.collect::<Result<Vec<Regex>, SignalsError>>()?;
        if phrases.is_empty() && patterns.is_empty() {
            return Err(SignalsError::EmptyTopic { topic: name.to_string() });
        }
        Ok(CompiledTopic { name: name.to_string(), priority: rule.priority, phrases, patterns })
    }

    /// True when the turn (raw text and its joined words) touches this topic.
    fn matches(&self, raw: &str, joined: &str) -> bool {
        let phrase_hit = self.phrases.iter().any(|phrase| {
            if phrase.chars().any(is_han) { joined.contains(phrase.trim()) } else { joined.contains(phrase.as_str()) }
        });
        phrase_hit || self.patterns.iter().any(|p| p.is_match(raw))
    }
}

fn compile_pattern(topic: &str, pattern: &str) -> Result<Regex, SignalsError> {
    let invalid =
        |reason: String| SignalsError::TopicPattern { topic: topic.to_string(), pattern: pattern.to_string(), reason };
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(invalid(format!("longer than {MAX_PATTERN_BYTES} bytes")));
    }
    RegexBuilder::new(pattern).case_insensitive(true).build().map_err(|e| invalid(e.to_string()))
}

/// The highest-priority topic this turn touches, if any (the first rule wins a tie).
pub(crate) fn find(topics: &[CompiledTopic], raw: &str, joined: &str) -> Option<TopicMatch> {
    let mut best: Option<&CompiledTopic> = None;
    for topic in topics.iter().filter(|t| t.matches(raw, joined)) {
        if best.is_none_or(|b| topic.priority > b.priority) {
            best = Some(topic);
        }
    }
    best.map(|t| TopicMatch { name: t.name.clone(), priority: t.priority })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, priority: u8, phrases: &[&str], patterns: &[&str]) -> TopicRule {
        TopicRule {
            name: name.to_string(),
            priority,
            phrases: phrases.iter().map(|s| s.to_string()).collect(),
            patterns: patterns.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn topic_of(rules: &[TopicRule], text: &str) -> Option<String> {
        let compiled: Vec<CompiledTopic> =
            rules.iter().map(|r| CompiledTopic::compile(r).expect("valid rule")).collect();
        find(&compiled, text, &joined(&tokenize(text))).map(|m| m.name)
    }

    #[test]
    fn phrases_match_whole_words_ignoring_case_and_accents() {
        let rules = [rule("legal", 8, &["lawyer", "abogado", "avocat"], &[])];
        assert_eq!(topic_of(&rules, "My LAWYER will hear about this").as_deref(), Some("legal"));
        assert_eq!(topic_of(&rules, "Llamaré a mi abogado").as_deref(), Some("legal"));
        assert_eq!(topic_of(&rules, "I like avocados"), None);
    }

    #[test]
    fn patterns_cover_what_phrases_cannot() {
        let rules = [rule("cancel", 4, &[], &[r"cancel+(ing|ed)? my (plan|subscription)"])];
        assert_eq!(topic_of(&rules, "I am cancelling my subscription").as_deref(), Some("cancel"));
        assert_eq!(topic_of(&rules, "can I cancel an order item?"), None);
    }

    #[test]
    fn the_highest_priority_topic_wins() {
        let rules = [rule("cancel", 4, &["cancel"], &[]), rule("safety", 9, &["suicide"], &[])];
        assert_eq!(topic_of(&rules, "cancel everything, suicide").as_deref(), Some("safety"));
    }

    #[test]
    fn chinese_phrases_match_inside_the_text() {
        let rules = [rule("legal", 8, &["律师"], &[])];
        assert_eq!(topic_of(&rules, "我要找律师起诉你们").as_deref(), Some("legal"));
    }

    #[test]
    fn a_bad_rule_is_a_configuration_error() {
        assert!(CompiledTopic::compile(&rule("x", 3, &[], &["(unclosed"])).is_err());
        assert!(CompiledTopic::compile(&rule("", 3, &["a"], &[])).is_err());
        assert!(CompiledTopic::compile(&rule("x", 3, &[], &[])).is_err());
        assert!(CompiledTopic::compile(&rule("x", 12, &["a"], &[])).is_err());
    }
}
