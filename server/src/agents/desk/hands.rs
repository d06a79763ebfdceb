//! Changes of hands: taking a waiting chat, transferring it, handing it back to the bot,
//! resolving it; and the agent's verdict on its escalation afterwards. Each change is one
//! move of the conversation's machine, through the [`Router`](super::Router).

use super::super::roster::Seen;
use super::super::router::Taken;
use super::super::views;
use super::error::AT_CAPACITY;
use super::{Desk, DeskError, NOT_YOUR_SITE};

use crate::config::AgentConfig;
use crate::conversation::Notice;
use crate::conversation::machine::Move;
use crate::protocol::Ephemeral;
use crate::protocol::agent::{TransferTo, Verdict};
use crate::protocol::{ConversationId, EventBody, Speaker, State, Text};
use crate::records::{Handback, Record, VerdictRecord};

/// Characters of an agent's words kept for the bot after a hand-back.
const HANDBACK_NOTE_CHARS: usize = 2_000;

impl Desk {
    /// Takes a waiting chat. Within capacity; exactly one racer wins.
    pub async fn accept(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        let site = self.site_of(id).await?;
        if !agent.serves(&site.config.id) {
            return Err(NOT_YOUR_SITE);
        }
        self.may_take(agent, id).await?;
        let entry = self.audit_entry(agent, "take", id);
        match self.router.take(&site, id, agent, None).await? {
            Taken::Yes => {}
            Taken::AtCapacity => return Err(AT_CAPACITY),
            Taken::No | Taken::NotHolder => return self.not_waiting(agent, id).await,
        }
        self.audited(entry, id).await;
        self.join(agent, id).await?;
        self.router.broadcast().await?;
        Ok(())
    }

    /// The visitor is told "X joined the chat" when the agent takes it: at `accept`, or when
    /// they open (or first write to) a chat routing or a transfer gave them, never when a
    /// router merely assigned it. Once per take, whichever node or socket asks.
    pub async fn join(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        let events = self.log.recent_events(id, views::MAX_VIEW_EVENTS).await?;
        let take = events.iter().rev().find_map(|event| match &event.body {
            EventBody::State { state, agent: taker, .. } => Some((event.seq, *state, taker.clone())),
            _ => None,
        });
        // The take is further back than a view reaches: the agent has long been in the chat.
        let Some((seq, State::Agent, Some(taker))) = take else { return Ok(()) };
        if taker.id != agent.id {
            return Ok(());
        }
        let site = self.site_of(id).await?;
        self.router.tell_joined(&site, id, &taker, seq).await?;
        Ok(())
    }

    /// Why a chat could not be taken: someone has it, or it is not waiting at all. An agent
    /// who already has it (routing gave it to them as they pressed accept) is told nothing.
    async fn not_waiting(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        if self.handoff.assignment(id).await?.is_some_and(|a| a.agent_id == agent.id) {
            return Ok(());
        }
        Err(match self.log.state(id).await? {
            None => DeskError::NotFound,
            Some(State::Agent | State::Queued) => DeskError::AlreadyTaken,
            Some(State::Bot | State::Resolved) => DeskError::Forbidden("this chat is not waiting for a person"),
        })
    }

    /// To another agent (who gets it at once, with everything) or back to a team's queue,
    /// with the giving agent's `note` for the next one. The visitor is told who continues. An
    /// agent who cannot take it now (offline, away, full) is refused before anything moves.
    pub async fn transfer(
        &self,
        agent: &AgentConfig,
        id: ConversationId,
        to: TransferTo,
        note: Option<Text>,
    ) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        let target = match &to {
            TransferTo::Agent(target_id) => {
                let target = self.router.presences().directory().get(target_id).ok_or(DeskError::NotFound)?;
                if !target.serves(&self.site_of(id).await?.config.id) {
                    return Err(DeskError::Forbidden("that agent does not work for this chat's site"));
                }
                self.check_can_take(agent, id, &target).await?;
                Some(target)
            }
            TransferTo::Team(_) => None,
        };
        if let Some(note) = note {
            self.note(agent, id, note).await?;
        }
        let mut entry = self.audit_entry(agent, "transfer", id);
        if let Some(entry) = &mut entry {
            entry.detail = match &to {
                TransferTo::Team(team) => serde_json::json!({ "to_team": team }),
                TransferTo::Agent(target) => serde_json::json!({ "to_agent": target }),
            }
            .to_string();
        }
        match (to, target) {
            (TransferTo::Team(team), _) => {
                if !self.router.transfer_to_team(id, agent.id.clone(), team).await? {
                    return Err(DeskError::Forbidden("this chat is no longer yours"));
                }
            }
            (TransferTo::Agent(_), Some(target)) => {
                let site = self.site_of(id).await?;
                match self.router.take(&site, id, &target, Some(&agent.id)).await? {
                    Taken::Yes => {}
                    Taken::AtCapacity => return Err(DeskError::Forbidden("that agent is at their chat limit")),
                    Taken::No | Taken::NotHolder => return Err(DeskError::Forbidden("this chat is no longer yours")),
                }
                let notice = Notice::TransferToAgent { name: target.name.clone(), team: target.teams.first().cloned() };
                self.router.tell(id, notice).await?;
            }
            (TransferTo::Agent(_), None) => return Err(DeskError::NotFound),
        }
        self.audited(entry, id).await;
        self.router.refresh().await?;
        Ok(())
    }

    /// Refuses a transfer to an agent who is offline, away or full, naming who can take it.
    async fn check_can_take(
        &self,
        agent: &AgentConfig,
        id: ConversationId,
        target: &AgentConfig,
    ) -> Result<(), DeskError> {
        let roster = self.roster(agent, Some(id)).await?;
        let Some(seen) = roster.agents.iter().find(|a| a.id == target.id) else { return Err(DeskError::NotFound) };
        let why = match seen.presence {
            _ if seen.free > 0 => return Ok(()),
            Seen::Offline => "is offline",
            Seen::Away => "is away",
            Seen::Online => "is at their chat limit",
        };
        let who = roster.who_can_take(&agent.id);
        Err(DeskError::TransferRefused(format!("{} {why}. Who can take it now: {who}.", target.name)))
    }

    /// Returns the chat to the bot, with what the agent said kept for its prompt.
    pub async fn handback(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        let events = self.log.recent_events(id, views::MAX_VIEW_EVENTS).await?;
        let said: Vec<&str> = events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Message { from: Speaker::Agent, text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let mut note = said.join("\n");
        if let Some((cut, _)) = note.char_indices().nth(HANDBACK_NOTE_CHARS) {
            note.truncate(cut);
        }
        let entry = self.audit_entry(agent, "handback", id);
        self.log.set_record(id, Record::Handback(Handback { agent: agent.name.clone(), said: note })).await?;
        self.release(id, Move::HandBack { holder: agent.id.clone() }).await?;
        self.audited(entry, id).await;
        self.router.tell(id, Notice::HandedBack).await?;
        Ok(())
    }

    /// Closes the chat and asks the visitor for a rating.
    pub async fn resolve(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        let entry = self.audit_entry(agent, "resolve", id);
        self.release(id, Move::Resolve { holder: agent.id.clone() }).await?;
        self.audited(entry, id).await;
        self.router.tell(id, Notice::Resolved).await?;
        self.pubsub.publish(id, &Ephemeral::CsatRequest { conversation_id: id }).await?;
        Ok(())
    }

    /// The agent's verdict on the escalation of a chat they took part in (kept as a record:
    /// the archive's reports read it; a second verdict replaces the first).
    pub async fn verdict(&self, agent: &AgentConfig, id: ConversationId, verdict: Verdict) -> Result<(), DeskError> {
        let conversation = self.log.conversation(id).await?.ok_or(DeskError::NotFound)?;
        let Some(escalation) = conversation.records.escalation.as_deref() else {
            return Err(DeskError::Forbidden("this chat was not escalated"));
        };
        let events = self.log.events_after(id, 0, usize::MAX).await?;
        let took_part = events.iter().any(|event| {
            matches!(&event.body, EventBody::State { state: State::Agent, agent: Some(a), .. } if a.id == agent.id)
        });
        if !took_part {
            return Err(DeskError::Forbidden("only an agent who handled this chat can judge its escalation"));
        }
        let record =
            VerdictRecord { agent: agent.id.clone(), verdict, reason: escalation.reason, at: chrono::Utc::now() };
        self.log.set_record(id, Record::Verdict(record)).await?;
        Ok(())
    }

    async fn release(&self, id: ConversationId, m: Move) -> Result<(), DeskError> {
        if !self.router.release(id, m).await? {
            return Err(DeskError::Forbidden("this chat is no longer yours"));
        }
        self.router.refresh().await?;
        Ok(())
    }
}
