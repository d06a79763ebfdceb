//! Which agent gets a chat automatically: among agents online, in the chat's team (any team
//! when it has none) and below their capacity, the least busy (ties by who has waited
//! longest since their last assignment), or the next in a fixed rotation.

pub use crate::config::Routing;

/// An agent as routing sees them.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub id: &'a str,
    pub teams: &'a [String],
    pub max_chats: u32,
    pub chats: u32,
    pub online: bool,
    /// Seconds since their last assignment (large when never).
    pub idle_secs: u64,
}

impl Candidate<'_> {
    fn can_take(&self, team: Option<&str>) -> bool {
        self.online && self.chats < self.max_chats && team.is_none_or(|team| self.teams.iter().any(|t| t == team))
    }
}

/// Picks an agent for a chat of `team`; `last` is the id picked last time (round robin).
pub fn pick<'a>(
    routing: Routing,
    team: Option<&str>,
    candidates: &[Candidate<'a>],
    last: Option<&str>,
) -> Option<&'a str> {
    let mut able: Vec<&Candidate<'a>> = candidates.iter().filter(|c| c.can_take(team)).collect();
    match routing {
        Routing::Manual => None,
        Routing::LeastBusy => {
            able.sort_by(|a, b| a.chats.cmp(&b.chats).then(b.idle_secs.cmp(&a.idle_secs)).then(a.id.cmp(b.id)));
            able.first().map(|c| c.id)
        }
        Routing::RoundRobin => {
            able.sort_by(|a, b| a.id.cmp(b.id));
            let next = last.and_then(|last| able.iter().find(|c| c.id > last));
            next.or(able.first()).map(|c| c.id)
        }
    }
}

/// Agents who could take a chat of `team` now (for the wait estimate and "anyone there?").
pub fn available(team: Option<&str>, candidates: &[Candidate<'_>]) -> usize {
    candidates.iter().filter(|c| c.can_take(team)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent<'a>(id: &'a str, teams: &'a [String], chats: u32, online: bool) -> Candidate<'a> {
        Candidate { id, teams, max_chats: 2, chats, online, idle_secs: 0 }
    }

    #[test]
    fn least_busy_picks_the_agent_with_fewest_chats_within_capacity_and_team() {
        let support = vec!["support".to_string()];
        let billing = vec!["billing".to_string()];
        let candidates = [
            agent("ana", &support, 1, true),
            agent("bo", &support, 0, true),
            agent("cy", &billing, 0, true),
            agent("di", &support, 0, false),
        ];
        assert_eq!(pick(Routing::LeastBusy, Some("support"), &candidates, None), Some("bo"));
        assert_eq!(pick(Routing::LeastBusy, Some("billing"), &candidates, None), Some("cy"));
        assert_eq!(pick(Routing::LeastBusy, Some("legal"), &candidates, None), None);
        let full = [agent("ana", &support, 2, true)];
        assert_eq!(pick(Routing::LeastBusy, None, &full, None), None, "at capacity");
    }

    #[test]
    fn round_robin_takes_turns_and_wraps() {
        let teams = vec![];
        let candidates = [agent("ana", &teams, 0, true), agent("bo", &teams, 1, true), agent("cy", &teams, 0, true)];
        assert_eq!(pick(Routing::RoundRobin, None, &candidates, None), Some("ana"));
        assert_eq!(pick(Routing::RoundRobin, None, &candidates, Some("ana")), Some("bo"));
        assert_eq!(pick(Routing::RoundRobin, None, &candidates, Some("cy")), Some("ana"));
    }

    #[test]
    fn manual_routing_never_assigns() {
        let teams = vec![];
        assert_eq!(pick(Routing::Manual, None, &[agent("ana", &teams, 0, true)], None), None);
    }
}
