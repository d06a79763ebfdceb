//! An agent's answer to a left message reaches the visitor by email, with the link that
//! reopens the conversation, until the visitor is back in the chat (they then read it live).

use crate::archive::outbox::MailKind;
use crate::conversation::notices;
use crate::mail::{Mail, letters};
use crate::protocol::agent::{LeftMessage, MailView};
use crate::protocol::{ConversationId, EventBody, Speaker};
use crate::sites::Sites;
use crate::store::{EventLog, StoreError};

/// Recent events looked at to tell whether the visitor came back after leaving the message.
const LOOK_BACK: usize = 200;

/// Emails `text`, just written by `agent`, when the conversation has a left message and the
/// visitor has not written since leaving it.
pub async fn email_reply(
    mail: &Mail,
    log: &dyn EventLog,
    sites: &Sites,
    agent: &str,
    id: ConversationId,
    text: &str,
) -> Result<(), StoreError> {
    let Some(conversation) = log.conversation(id).await? else { return Ok(()) };
    let Some(contact) = conversation.records.contact.as_deref() else { return Ok(()) };
    let events = log.recent_events(id, LOOK_BACK).await?;
    let back = events
        .iter()
        .any(|e| e.at > contact.at && matches!(&e.body, EventBody::Message { from: Speaker::Visitor, .. }));
    let Some(site) = sites.get(&conversation.site) else { return Ok(()) };
    if back {
        return Ok(());
    }
    let lang = notices::conversation_language(&site.config, &conversation);
    let letter = letters::reply(&site.config, lang, agent, text, &mail.resume_link(id));
    if let Err(error) = mail.queue(&site.config.id, id, MailKind::Reply, &contact.email, letter).await {
        tracing::warn!(%error, conversation_id = %id, "the reply is in the chat; its email was not queued");
    }
    Ok(())
}

/// The emails of the left messages' conversations, for the console ("not yet sent"). An
/// archive that does not answer leaves the list empty: the left messages still show.
pub async fn mail_views(mail: &Mail, left: &[LeftMessage]) -> Vec<MailView> {
    let mut views = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for id in left.iter().map(|l| l.conversation_id).filter(|id| seen.insert(*id)) {
        match mail.status_of(id).await {
            Ok(list) => views.extend(list.into_iter().map(|m| MailView {
                conversation_id: id,
                kind: serde_json::to_value(m.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                recipient: m.recipient,
                status: m.status,
                attempts: m.attempts,
                last_error: m.last_error,
            })),
            Err(error) => tracing::warn!(%error, "email status not read"),
        }
    }
    views
}
