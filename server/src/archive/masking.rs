//! What the archive keeps of a site that sets `[privacy] redact_archive`: its events and
//! records with the site's kinds of personal data masked (see [`crate::redact`]). The live
//! store keeps them as typed, so the live chat shows what the visitor wrote; the archive,
//! its exports and the console's archive page show the mask. The email a visitor left stays
//! in `conversations.email` (unmasked): it is how a privacy request finds their data.

use std::collections::HashMap;
use std::sync::Arc;

use crate::protocol::{Event, EventBody};
use crate::redact::Redactor;
use crate::store::Conversation;

/// The sites whose archive is masked, each with its redactor.
#[derive(Clone, Default)]
pub struct ArchiveMasks {
    by_site: Arc<HashMap<String, Redactor>>,
}

impl ArchiveMasks {
    pub fn from_sites(sites: &[crate::config::SiteConfig]) -> ArchiveMasks {
        let by_site = sites
            .iter()
            .filter(|site| site.privacy.redact_archive)
            .map(|site| (site.id.clone(), site.privacy.redactor()))
            .filter(|(_, redactor)| !redactor.is_empty())
            .collect();
        ArchiveMasks { by_site: Arc::new(by_site) }
    }

    pub fn for_site(&self, site: &str) -> Option<&Redactor> {
        self.by_site.get(site)
    }
}

/// The event with its text masked (the same event when it carries none).
pub fn event(event: &Arc<Event>, redactor: &Redactor) -> Arc<Event> {
    let text = match &event.body {
        EventBody::Message { text, .. } | EventBody::Note { text, .. } => text,
        EventBody::State { .. } | EventBody::Attachment { .. } => return event.clone(),
    };
    let masked = redactor.mask(text);
    if masked == text.as_str() {
        return event.clone();
    }
    let masked = masked.into_owned();
    let mut copy = (**event).clone();
    match &mut copy.body {
        EventBody::Message { text, .. } | EventBody::Note { text, .. } => *text = masked,
        EventBody::State { .. } | EventBody::Attachment { .. } => {}
    }
    Arc::new(copy)
}

/// The conversation with the free text of its records masked: the summary, the escalation's
/// detail, what a handback said, the rating's comment, a left message's text.
pub fn conversation(conversation: &Conversation, redactor: &Redactor) -> Conversation {
    let mut copy = conversation.clone();
    let records = &mut copy.records;
    if let Some(summary) = &mut records.summary {
        redactor.mask_in_place(summary);
    }
    if let Some(escalation) = &mut records.escalation {
        redactor.mask_in_place(&mut escalation.detail);
    }
    if let Some(handback) = &mut records.handback {
        redactor.mask_in_place(&mut handback.said);
    }
    if let Some(comment) = records.rating.as_mut().and_then(|rating| rating.comment.as_mut()) {
        redactor.mask_in_place(comment);
    }
    if let Some(text) = records.contact.as_mut().and_then(|contact| contact.text.as_mut()) {
        redactor.mask_in_place(text);
    }
    copy
}
