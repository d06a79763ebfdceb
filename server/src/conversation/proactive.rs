//! A proactive message (`[[proactive]]` in the site's file): the widget saw a trigger's page
//! conditions hold and asks, with a `proactive` frame, for its message. The server owns the
//! decision: the trigger must exist, the visitor must match its identity condition, the
//! conversation must not have begun (no visitor message, no opening message yet), and the
//! visitor's caps must allow it. Only then does the trigger's text enter the conversation, as
//! a bot message (shown with the AI notice like every bot message). It leaves the
//! conversation provisional (`store::keeps_conversation`): a visitor who never answers leaves
//! nothing in the archive.

use sha2::{Digest, Sha256};

use super::{Conversations, StoreError, bot_message, notices};
use crate::config::proactive::{CAP_WINDOW_DAYS, ProactiveTrigger};
use crate::protocol::{ConversationId, ErrorCode, EventBody, Speaker, State};
use crate::sites::Site;
use crate::store::allowance::Bucket;
use crate::store::{Appended, EventDraft};

/// Events read back to see whether the conversation has begun.
const BEGUN_LOOKBACK: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum ProactiveError {
    #[error("no proactive trigger {0:?} on this site")]
    Unknown(String),
    #[error("proactive trigger {0:?} is not for this visitor")]
    NotForVisitor(String),
    #[error("this conversation has begun: a proactive message only opens one")]
    Begun,
    #[error("proactive trigger {0:?} was shown to this visitor as often as its caps allow")]
    Capped(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ProactiveError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ProactiveError::Unknown(_) => ErrorCode::NotFound,
            ProactiveError::NotForVisitor(_) | ProactiveError::Begun => ErrorCode::Forbidden,
            ProactiveError::Capped(_) => ErrorCode::RateLimited,
            ProactiveError::Store(_) => ErrorCode::Unavailable,
        }
    }
}

/// The caps of `trigger` for one visitor (`who`: their verified user id, else the widget's
/// visitor key, else the conversation), taken together: `max_per_visitor` in
/// [`CAP_WINDOW_DAYS`], and one per `min_interval_hours`.
fn caps(site: &str, trigger: &ProactiveTrigger, who: &str) -> [Bucket; 2] {
    let hash: String = Sha256::digest(who.as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect();
    let key = format!("proactive:{site}:{}:{hash}", trigger.id);
    let window = f64::from(CAP_WINDOW_DAYS) * 86_400.0;
    let interval = f64::from(trigger.min_interval_hours) * 3_600.0;
    [
        Bucket {
            key: format!("{key}:n"),
            rate: f64::from(trigger.max_per_visitor) / window,
            burst: trigger.max_per_visitor,
        },
        Bucket { key: format!("{key}:i"), rate: 1.0 / interval, burst: 1 },
    ]
}

impl Conversations {
    /// Posts trigger `trigger_id`'s message to a conversation that has not begun, if its
    /// conditions and caps allow: the stored event's `seq`.
    pub async fn proactive(
        &self,
        site: &Site,
        id: ConversationId,
        trigger_id: &str,
        visitor_key: Option<&str>,
    ) -> Result<u64, ProactiveError> {
        let trigger = site
            .config
            .proactive
            .iter()
            .find(|t| t.id == trigger_id)
            .ok_or_else(|| ProactiveError::Unknown(trigger_id.to_owned()))?;
        let conversation = self.stores.log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        let verified = conversation.records.identity.as_deref().filter(|i| i.verified);
        if !trigger.identity_matches(verified) {
            return Err(ProactiveError::NotForVisitor(trigger.id.clone()));
        }
        let recent = self.stores.log.recent_events(id, BEGUN_LOOKBACK).await?;
        let said = |who: Speaker| {
            recent.iter().filter(|e| matches!(&e.body, EventBody::Message { from, .. } if *from == who)).count()
        };
        // The greeting is the one bot message a conversation that has not begun holds.
        if conversation.state != State::Bot || said(Speaker::Visitor) > 0 || said(Speaker::Bot) > 1 {
            return Err(ProactiveError::Begun);
        }
        let conversation_key = id.to_string();
        let who = verified.and_then(|i| i.user_id.as_deref()).or(visitor_key).unwrap_or(&conversation_key);
        if !self.stores.allowances.take(&caps(&site.config.id, trigger, who)).await? {
            return Err(ProactiveError::Capped(trigger.id.clone()));
        }
        let lang = notices::conversation_language(&site.config, &conversation);
        let text = trigger.text_in(lang, &site.config.widget.locale).to_owned();
        let draft = EventDraft::new(bot_message(site, text)).dedupe("proactive".into()).expect(&[State::Bot]);
        match self.stores.log.append(id, draft).await? {
            Appended::New { event, .. } => {
                tracing::info!(conversation_id = %id, trigger = %trigger.id, "proactive message");
                crate::telemetry::metrics::proactive(&site.config.id, &trigger.id);
                Ok(event.seq)
            }
            Appended::Duplicate { .. } | Appended::Refused { .. } => Err(ProactiveError::Begun),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caps_are_per_site_trigger_and_visitor_and_never_hold_the_visitor_key_itself() {
        let trigger: ProactiveTrigger =
            toml::from_str("id = \"pricing\"\ntext = { en = \"Hi\" }\nmax_per_visitor = 3\nmin_interval_hours = 2")
                .unwrap();
        let [count, interval] = caps("shop", &trigger, "visitor-key-123");
        assert_eq!((count.burst, interval.burst), (3, 1));
        assert!((interval.rate * 7_200.0 - 1.0).abs() < 1e-9, "one every two hours");
        assert!(count.key.starts_with("proactive:shop:pricing:") && !count.key.contains("visitor-key-123"));
        assert_ne!(count.key, caps("shop", &trigger, "another")[0].key);
    }
}
