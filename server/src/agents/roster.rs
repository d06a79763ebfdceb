//! Who can take a chat right now, as an agent choosing where to transfer one sees it: every
//! agent with their presence and free capacity, and every team with how many of its agents
//! could take one now. A refused transfer names these too.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::protocol::agent::{RosterAgent, RosterTeam, Seen};

use super::presence::Load;
use crate::store::{AgentStatus, Presence};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Roster {
    pub agents: Vec<RosterAgent>,
    pub teams: Vec<RosterTeam>,
}

impl Roster {
    pub fn new(loads: &[Load], presence: &BTreeMap<String, Presence>, now: DateTime<Utc>) -> Roster {
        let agents: Vec<RosterAgent> = loads
            .iter()
            .map(|load| {
                let seen = match presence.get(&load.agent.id) {
                    Some(p) if p.until < now => Seen::Offline,
                    Some(p) if p.status == AgentStatus::Away => Seen::Away,
                    Some(_) => Seen::Online,
                    None => Seen::Offline,
                };
                let free = if seen == Seen::Online { load.agent.max_chats.saturating_sub(load.chats) } else { 0 };
                RosterAgent {
                    id: load.agent.id.clone(),
                    name: load.agent.name.clone(),
                    teams: load.agent.teams.clone(),
                    presence: seen,
                    chats: load.chats,
                    max_chats: load.agent.max_chats,
                    free,
                }
            })
            .collect();
        let mut teams: BTreeMap<String, RosterTeam> = BTreeMap::new();
        for agent in &agents {
            for team in &agent.teams {
                let entry =
                    teams.entry(team.clone()).or_insert_with(|| RosterTeam { team: team.clone(), online: 0, free: 0 });
                entry.online += u32::from(agent.presence == Seen::Online);
                entry.free += agent.free;
            }
        }
        Roster { agents, teams: teams.into_values().collect() }
    }

    /// "Ana (billing, 2 free), team billing (2 free)": who could take a chat now apart from
    /// `except` (the agent asking, whose own room does not count for their teams either);
    /// "nobody" when no one.
    pub fn who_can_take(&self, except: &str) -> String {
        let others: Vec<&RosterAgent> = self.agents.iter().filter(|a| a.free > 0 && a.id != except).collect();
        let mut teams: BTreeMap<&str, u32> = BTreeMap::new();
        for agent in &others {
            agent.teams.iter().for_each(|t| *teams.entry(t).or_default() += agent.free);
        }
        let agents = others.iter().map(|a| {
            let teams = if a.teams.is_empty() { String::new() } else { format!("{}, ", a.teams.join("/")) };
            format!("{} ({teams}{} free)", a.name, a.free)
        });
        let teams = teams.iter().map(|(team, free)| format!("team {team} ({free} free)"));
        let all: Vec<String> = agents.chain(teams).collect();
        if all.is_empty() { "nobody".to_owned() } else { all.join(", ") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(id: &str, teams: &[&str], max_chats: u32, chats: u32) -> Load {
        let agent = serde_json::from_value(serde_json::json!({
            "id": id, "name": id, "teams": teams, "max_chats": max_chats, "token_sha256": ""
        }))
        .unwrap();
        Load { agent, present: true, online: true, chats, idle_secs: 0 }
    }

    #[test]
    fn only_online_agents_with_room_can_take_a_chat() {
        let now = Utc::now();
        let later = now + chrono::Duration::seconds(60);
        let loads = [load("ana", &["billing"], 3, 1), load("bo", &["billing"], 2, 0), load("cy", &[], 1, 1)];
        let presence = BTreeMap::from([
            ("ana".to_owned(), Presence { status: AgentStatus::Online, until: later }),
            ("bo".to_owned(), Presence { status: AgentStatus::Away, until: later }),
            ("cy".to_owned(), Presence { status: AgentStatus::Online, until: later }),
        ]);
        let roster = Roster::new(&loads, &presence, now);
        let seen: Vec<(Seen, u32)> = roster.agents.iter().map(|a| (a.presence, a.free)).collect();
        assert_eq!(seen, [(Seen::Online, 2), (Seen::Away, 0), (Seen::Online, 0)]);
        assert_eq!(roster.teams, [RosterTeam { team: "billing".into(), online: 1, free: 2 }]);
        assert_eq!(roster.who_can_take("cy"), "ana (billing, 2 free), team billing (2 free)");
        assert_eq!(roster.who_can_take("ana"), "nobody", "the asking agent does not count for their team");
    }
}
