//! Every escalation is built here, whatever asked for it: the policy after a visitor turn,
//! the visitor's "talk to a person", the bot (repeated failures, the model's handoff tool), or
//! an agent's transfer to a team. An [`Escalation`] carries the record agents and owners see,
//! the notice the visitor is told, and the team it goes to.

use chrono::Utc;

use super::Notice;
use crate::escalation::BotEscalation;
use crate::protocol::{ConversationId, Reason};
use crate::records::EscalationRecord;
use crate::signals::TurnSignals;
use crate::sites::Site;
use crate::store::QueueEntry;

/// Why a conversation goes to people, and what the visitor is told.
#[derive(Clone, Debug)]
pub struct Escalation {
    pub record: EscalationRecord,
    /// Told to the visitor (in their language, when it is written).
    pub notice: Notice,
}

impl Escalation {
    /// The one builder: the team comes from the topic that fired (the site's
    /// `handoff.topic_teams`), else the site's `handoff.team`.
    pub fn new(site: &Site, reason: Reason, priority: u8, detail: String, signals: Option<TurnSignals>) -> Escalation {
        let handoff = &site.config.handoff;
        let topic = signals.as_ref().and_then(|s| s.topic.as_ref()).map(|t| t.name.as_str());
        let team = topic.and_then(|t| handoff.topic_teams.get(t)).or(handoff.team.as_ref()).cloned();
        let notice = Notice::Escalated(reason);
        Escalation { record: EscalationRecord { reason, priority, detail, signals, team, at: Utc::now() }, notice }
    }

    /// The visitor pressed "talk to a person" (or chose the offer's quick reply).
    pub fn requested(site: &Site) -> Escalation {
        let priority = site.config.escalation.priorities.explicit_request;
        let detail = "the visitor pressed \"talk to a person\"".to_owned();
        Escalation::new(site, Reason::ExplicitRequest, priority, detail, None)
    }

    /// What the bot's report called for (see [`crate::escalation::Policy::after_bot`]).
    pub fn from_bot(site: &Site, bot: BotEscalation) -> Escalation {
        Escalation::new(site, bot.reason, bot.priority, bot.detail, None)
    }

    /// A chat goes back to the queue from an agent: the original record stays (its reason,
    /// priority, and team, unless `team` names a new one, as a transfer to a team does).
    pub fn back(previous: Option<EscalationRecord>, team: Option<String>) -> Escalation {
        let mut record = previous.unwrap_or_else(|| EscalationRecord {
            reason: Reason::ExplicitRequest,
            priority: 5,
            detail: "returned to the queue by an agent".to_owned(),
            signals: None,
            team: None,
            at: Utc::now(),
        });
        if team.is_some() {
            record.team = team;
        }
        let notice = Notice::Escalated(record.reason);
        Escalation { record, notice }
    }

    /// The queue entry agents see, with `reason` on it (the escalation's own, or
    /// [`Reason::Transfer`] for a transfer). It waits since the escalation, also when it
    /// comes back from an agent (`returned`): the visitor's wait did not start again.
    pub fn entry(&self, site: &str, id: ConversationId, reason: Reason, returned: bool) -> QueueEntry {
        QueueEntry {
            conversation_id: id,
            site: site.to_owned(),
            team: self.record.team.clone(),
            reason,
            priority: self.record.priority,
            waiting_since: self.record.at,
            returned,
        }
    }
}
