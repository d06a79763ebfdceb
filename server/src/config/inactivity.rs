//! A site's inactivity rules (`[inactivity]`, see `docs/proactive.md`): a chat waiting on the
//! visitor is nudged, then resolved; a chat waiting on a person past the SLA alerts the team.
//! Every rule is off (0) unless the site sets it; `conversation::inactivity` applies them.

use serde::Deserialize;

/// The longest any of the rules may wait: a week (the live store keeps less).
pub const MAX_INACTIVITY_SECS: u64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteInactivity {
    /// Seconds after the bot's or an agent's last message without an answer from the visitor
    /// before Baton asks whether they are still there (0: never).
    pub nudge_after_secs: u64,
    /// Seconds after that same message before the chat is resolved, with the rating request
    /// (0: never). Longer than `nudge_after_secs` when both are set.
    pub resolve_after_secs: u64,
    /// Seconds a chat may wait on a person (queued, or its agent not answering the visitor's
    /// last message) before the site's agents are alerted (0: never).
    pub agent_sla_secs: u64,
}

impl SiteInactivity {
    pub fn validate(&self) -> Result<(), String> {
        let keys = [
            ("nudge_after_secs", self.nudge_after_secs),
            ("resolve_after_secs", self.resolve_after_secs),
            ("agent_sla_secs", self.agent_sla_secs),
        ];
        if let Some((key, _)) = keys.iter().find(|(_, secs)| *secs > MAX_INACTIVITY_SECS) {
            return Err(format!("key `inactivity.{key}` must be at most {MAX_INACTIVITY_SECS} (a week)"));
        }
        if self.nudge_after_secs > 0 && self.resolve_after_secs > 0 && self.resolve_after_secs <= self.nudge_after_secs
        {
            return Err("key `inactivity.resolve_after_secs` must be longer than `nudge_after_secs`".into());
        }
        Ok(())
    }

    /// Whether any rule is on.
    pub fn any(&self) -> bool {
        self.nudge_after_secs > 0 || self.resolve_after_secs > 0 || self.agent_sla_secs > 0
    }
}
