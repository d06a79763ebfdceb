//! Key and channel names (the layout is documented on [`super`]). Every key of one
//! conversation carries its id in a hash tag, `{…}`, so Redis Cluster keeps them in one slot
//! and a script may touch them together.

use crate::protocol::ConversationId;
use crate::store::Topic;

/// Builds every name from the namespace, so two deployments (or test runs) share one Redis.
#[derive(Clone, Debug)]
pub struct Keys {
    namespace: String,
}

impl Keys {
    /// In a Redis Cluster the namespace is the hash tag of every name (`{baton}:…`): one slot
    /// holds them all, so every script's keys are in one slot (see [`super::connection`]).
    pub fn new(namespace: &str, cluster: bool) -> Keys {
        let namespace = if cluster { format!("{{{namespace}}}") } else { namespace.to_owned() };
        Keys { namespace }
    }

    fn conversation_key(&self, id: ConversationId, part: &str) -> String {
        format!("{}:c:{{{id}}}:{part}", self.namespace)
    }

    /// Hash: site, state, last_seq, created_at, visitor, token_hash, `n:<counter>`, `r:<record>`.
    pub fn meta(&self, id: ConversationId) -> String {
        self.conversation_key(id, "meta")
    }

    /// What goes before and after a conversation id in its meta key, for scripts that name
    /// other conversations' keys (see `transition.lua`).
    pub fn meta_parts(&self) -> (String, &'static str) {
        (format!("{}:c:{{", self.namespace), "}:meta")
    }

    /// List: event JSON, the event with `seq` n at index n-1.
    pub fn events(&self, id: ConversationId) -> String {
        self.conversation_key(id, "events")
    }

    /// Hash: idempotency key → the `seq` it was first stored as.
    pub fn dedupe(&self, id: ConversationId) -> String {
        self.conversation_key(id, "dedupe")
    }

    /// The three keys of a conversation, in the order the scripts take them.
    pub fn conversation(&self, id: ConversationId) -> [String; 3] {
        [self.meta(id), self.events(id), self.dedupe(id)]
    }

    /// String: the conversation id a resume token (its SHA-256) opens.
    /// Written by `/readyz` to check that Redis takes writes (expires by itself).
    pub fn ready_probe(&self) -> String {
        format!("{}:ready", self.namespace)
    }

    /// Sorted set: a site's verified user's conversation ids, scored by start (Unix ms). The
    /// user id is hashed: any string a site uses stays one short, plain key.
    pub fn user(&self, site: &str, user_id: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest: String = Sha256::digest(user_id.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        format!("{}:user:{site}:{digest}", self.namespace)
    }

    /// Hash: one shared token bucket (see `store::allowance`).
    pub fn allowance(&self, key: &str) -> String {
        format!("{}:allow:{key}", self.namespace)
    }

    pub fn token(&self, token_hash: &str) -> String {
        format!("{}:token:{token_hash}", self.namespace)
    }

    /// Hash: conversation id → queue entry JSON.
    pub fn queue(&self) -> String {
        format!("{}:queue", self.namespace)
    }

    /// Hash: conversation id → assignment JSON.
    pub fn assignments(&self) -> String {
        format!("{}:assignments", self.namespace)
    }

    /// Set: the conversations assigned to an agent (the ids of their `assignments` fields),
    /// kept in step with `assignments` by `transition.lua`, for its capacity check.
    pub fn agent_chats(&self, agent_id: &str) -> String {
        let (before, after) = self.agent_chats_parts();
        format!("{before}{agent_id}{after}")
    }

    /// What goes before and after an agent id in [`Keys::agent_chats`], for the scripts.
    pub fn agent_chats_parts(&self) -> (String, &'static str) {
        (format!("{}:agent:", self.namespace), ":chats")
    }

    /// Hash: agent id → presence JSON.
    pub fn presence(&self) -> String {
        format!("{}:presence", self.namespace)
    }

    /// List: the newest pickup waits of a site, newest last.
    pub fn pickups(&self, site: &str) -> String {
        format!("{}:pickups:{site}", self.namespace)
    }

    /// List: the newest left messages (JSON), newest last.
    pub fn left_messages(&self) -> String {
        format!("{}:left", self.namespace)
    }

    /// Sorted set: unarchived conversation ids, scored by when each is next due (Unix ms).
    pub fn archive_feed(&self) -> String {
        format!("{}:archive", self.namespace)
    }

    /// Sorted set: conversations for the inactivity rules, scored by when each is next due
    /// (Unix ms). Named after the feed's key: the scripts that mark the feed derive it
    /// (`event.lua`), so no script takes another argument for it.
    pub fn idle_watch(&self) -> String {
        format!("{}:idle", self.archive_feed())
    }

    /// The pub/sub channel of a topic.
    pub fn channel(&self, topic: &Topic) -> String {
        match topic {
            Topic::Conversation(id) => format!("{}:t:c:{{{id}}}", self.namespace),
            Topic::Agent(agent_id) => format!("{}:t:agent:{agent_id}", self.namespace),
            Topic::Changes => format!("{}:t:changes", self.namespace),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversations_keys_and_channel_share_one_hash_tag() {
        let keys = Keys::new("baton", false);
        let id = ConversationId::new();
        let tag = format!("{{{id}}}");
        for key in keys.conversation(id).iter().chain([&keys.channel(&Topic::Conversation(id))]) {
            assert!(key.starts_with("baton:"), "{key}");
            assert_eq!(key.matches('{').count(), 1, "{key}");
            assert!(key.contains(&tag), "{key}");
        }
        assert_eq!(keys.meta(id), format!("baton:c:{{{id}}}:meta"));
        let (before, after) = keys.meta_parts();
        assert_eq!(format!("{before}{id}{after}"), keys.meta(id), "scripts build the same names");
        assert_eq!(keys.agent_chats("a:b"), "baton:agent:a:b:chats");
        assert_eq!(keys.channel(&Topic::Agent("ana".into())), "baton:t:agent:ana");
    }

    /// Redis Cluster hashes only the first `{…}` of a name: the namespace's, in cluster mode.
    fn hash_tag(key: &str) -> &str {
        let open = key.find('{').expect("a hash tag");
        let close = open + key[open..].find('}').expect("a closed hash tag");
        &key[open + 1..close]
    }

    #[test]
    fn in_a_cluster_every_key_hashes_by_the_namespace() {
        let keys = Keys::new("baton", true);
        let id = ConversationId::new();
        let names = keys.conversation(id).into_iter().chain([
            keys.token("abc"),
            keys.queue(),
            keys.assignments(),
            keys.agent_chats("ana"),
            keys.presence(),
            keys.pickups("demo"),
            keys.left_messages(),
            keys.archive_feed(),
            keys.idle_watch(),
            keys.user("demo", "u1"),
            keys.allowance("site:demo"),
            keys.ready_probe(),
        ]);
        for name in names {
            assert_eq!(hash_tag(&name), "baton", "{name}");
        }
        let (before, after) = keys.meta_parts();
        assert_eq!(format!("{before}{id}{after}"), keys.meta(id), "scripts build the same names");
    }
}
