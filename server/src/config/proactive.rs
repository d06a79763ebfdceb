//! A site's proactive messages (`[[proactive]]`, see `docs/proactive.md`): the widget opens
//! with a message of the bot's when a trigger's conditions hold on the page. The widget
//! evaluates what only the page knows (URL, time on page, a returning visitor); the server
//! checks the rest (the identity, the caps) before the message enters the conversation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Triggers a site may define.
pub const MAX_TRIGGERS: usize = 20;
/// The longest `url` pattern and message, in characters.
pub const MAX_PATTERN_CHARS: usize = 512;
pub const MAX_TEXT_CHARS: usize = 1_000;
/// The longest wait on a page a trigger may ask for: an hour.
pub const MAX_AFTER_SECS: u32 = 3_600;
/// The identity fields a trigger may match on.
pub const IDENTITY_FIELDS: [&str; 3] = ["user_id", "name", "email"];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProactiveTrigger {
    /// What the widget names in its `proactive` frame: 1-64 of a-z, 0-9, - and _.
    pub id: String,
    /// The page URLs it applies to: a glob over the whole URL where `*` is any run of
    /// characters (unset: every page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Seconds on the page before it fires (0: at once).
    #[serde(default)]
    pub after_secs: u32,
    /// Only for a visitor who has been on the site before (the widget remembers its first
    /// visit).
    #[serde(default)]
    pub returning: bool,
    /// Only for a verified visitor whose identity has these values, e.g.
    /// `{ email = "ana@shop.example" }` (fields: `user_id`, `name`, `email`). Checked by the
    /// server; never sent to the widget.
    #[serde(default, skip_serializing)]
    pub identity: BTreeMap<String, String>,
    /// The message per locale, e.g. `{ en = "…", fr = "…" }`: the visitor's locale, else the
    /// site's, else English, else the first.
    #[serde(skip_serializing)]
    pub text: BTreeMap<String, String>,
    /// At most this many times per visitor in [`CAP_WINDOW_DAYS`].
    #[serde(default = "one")]
    pub max_per_visitor: u32,
    /// At least this long between two of its messages to one visitor.
    #[serde(default = "a_day")]
    pub min_interval_hours: u32,
}

/// The window `max_per_visitor` counts in: its allowance refills over this many days.
pub const CAP_WINDOW_DAYS: u32 = 30;

fn one() -> u32 {
    1
}

fn a_day() -> u32 {
    24
}

impl ProactiveTrigger {
    fn validate(&self, key: &str) -> Result<(), String> {
        let id_ok = (1..=64).contains(&self.id.len())
            && self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(format!("key `{key}.id` must be 1-64 of a-z, 0-9, - and _"));
        }
        if self.url.as_ref().is_some_and(|u| u.is_empty() || u.chars().count() > MAX_PATTERN_CHARS) {
            return Err(format!("key `{key}.url` must be 1 to {MAX_PATTERN_CHARS} characters"));
        }
        if self.after_secs > MAX_AFTER_SECS {
            return Err(format!("key `{key}.after_secs` must be at most {MAX_AFTER_SECS}"));
        }
        if let Some(field) = self.identity.keys().find(|k| !IDENTITY_FIELDS.contains(&k.as_str())) {
            return Err(format!("key `{key}.identity.{field}`: one of {}", IDENTITY_FIELDS.join(", ")));
        }
        if self.text.is_empty() {
            return Err(format!("key `{key}.text` needs a message in at least one locale"));
        }
        for (locale, text) in &self.text {
            if !super::notices::NOTICE_LOCALES.contains(&locale.as_str()) {
                return Err(format!("key `{key}.text.{locale}`: no such locale"));
            }
            if text.trim().is_empty() || text.chars().count() > MAX_TEXT_CHARS {
                return Err(format!("key `{key}.text.{locale}` must be 1 to {MAX_TEXT_CHARS} characters"));
            }
        }
        if self.max_per_visitor == 0 || self.min_interval_hours == 0 {
            return Err(format!("key `{key}`: `max_per_visitor` and `min_interval_hours` must be positive"));
        }
        Ok(())
    }

    /// What the widget is sent (`GET /v1/sites/SITE/widget`): the page conditions and caps,
    /// and whether it is for verified visitors only; never the texts or identity values.
    pub fn widget_view(&self) -> serde_json::Value {
        let mut view = serde_json::to_value(self).unwrap_or_default();
        view["verified_only"] = (!self.identity.is_empty()).into();
        view
    }

    /// The message in `locale`, else `fallback` (the site's), else English, else the first.
    pub fn text_in(&self, locale: &str, fallback: &str) -> &str {
        [locale, fallback, "en"]
            .iter()
            .find_map(|l| self.text.get(*l))
            .or_else(|| self.text.values().next())
            .map_or("", String::as_str)
    }

    /// Whether the visitor's verified identity has every value the trigger asks for (emails
    /// compared without case). A trigger without `identity` matches everyone.
    pub fn identity_matches(&self, verified: Option<&crate::records::Identity>) -> bool {
        if self.identity.is_empty() {
            return true;
        }
        let Some(who) = verified else { return false };
        self.identity.iter().all(|(field, want)| match field.as_str() {
            "user_id" => who.user_id.as_deref() == Some(want),
            "name" => who.name.as_deref() == Some(want),
            _ => who.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(want)),
        })
    }
}

/// Checks a site's triggers: each valid, ids unique, at most [`MAX_TRIGGERS`].
pub fn validate(triggers: &[ProactiveTrigger]) -> Result<(), String> {
    if triggers.len() > MAX_TRIGGERS {
        return Err(format!("key `proactive`: at most {MAX_TRIGGERS} triggers"));
    }
    for (i, trigger) in triggers.iter().enumerate() {
        trigger.validate(&format!("proactive[{i}]"))?;
        if triggers[..i].iter().any(|t| t.id == trigger.id) {
            return Err(format!("key `proactive[{i}].id`: {:?} is used twice", trigger.id));
        }
    }
    Ok(())
}
