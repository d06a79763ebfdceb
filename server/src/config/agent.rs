//! A human agent as configured (`[[agents]]`): who they are, the sites and teams they work
//! for, and what they may see. [`AgentConfig::may_see`] is the one rule for "is this chat
//! any of this agent's business"; everything agent-bound is filtered through it.

use serde::Deserialize;

use super::SiteConfig;

/// `sites = ["*"]` (or no `sites` at all): the agent works for every site.
pub const ALL_SITES: &str = "*";

/// A human agent. The token is kept only as its SHA-256 (hex), so a leaked config file does
/// not leak credentials and nothing can log the token itself.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub teams: Vec<String>,
    /// The sites whose visitors this agent serves; `None` (absent) or `["*"]`: every site.
    #[serde(default)]
    pub sites: Option<Vec<String>>,
    pub max_chats: u32,
    pub token_sha256: String,
    /// `admin` may read reports, the audit log and erase a visitor's data (within its
    /// sites); `agent` (the default) may not.
    #[serde(default)]
    pub role: AgentRole,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentRole {
    #[default]
    Agent,
    Admin,
}

impl AgentConfig {
    /// The sites this agent serves; `None`: every site.
    pub fn site_scope(&self) -> Option<&[String]> {
        match &self.sites {
            Some(sites) if !sites.iter().any(|s| s == ALL_SITES) => Some(sites),
            _ => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == AgentRole::Admin
    }

    /// The agent works for `site`.
    pub fn serves(&self, site: &str) -> bool {
        self.sites.as_ref().is_none_or(|sites| sites.iter().any(|s| s == ALL_SITES || s == site))
    }

    /// A chat of `site` routed to `team` (`None`: anyone of the site) may be shown to and
    /// taken by this agent: they serve the site and, when it names a team, are in it.
    pub fn may_see(&self, site: &str, team: Option<&str>) -> bool {
        self.serves(site) && team.is_none_or(|team| self.teams.iter().any(|t| t == team))
    }
}

/// Every site an agent names exists (a typo would silently hide a site's chats from them),
/// and no agent has an empty list (which would serve no one).
pub fn validate_sites(agents: &[AgentConfig], sites: &[SiteConfig]) -> anyhow::Result<()> {
    for (i, agent) in agents.iter().enumerate() {
        let Some(list) = &agent.sites else { continue };
        anyhow::ensure!(
            !list.is_empty(),
            "settings key `agents[{i}].sites` is empty: list the agent's sites, or use [\"*\"] for all"
        );
        for site in list.iter().filter(|s| *s != ALL_SITES) {
            anyhow::ensure!(
                sites.iter().any(|known| known.id == *site),
                "settings key `agents[{i}].sites` names {site:?}, which is not a site under sites/"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(sites: Option<&[&str]>, teams: &[&str]) -> AgentConfig {
        AgentConfig {
            id: "ana".into(),
            name: "Ana".into(),
            teams: teams.iter().map(|t| (*t).to_owned()).collect(),
            sites: sites.map(|s| s.iter().map(|s| (*s).to_owned()).collect()),
            max_chats: 2,
            token_sha256: String::new(),
            role: AgentRole::Agent,
        }
    }

    #[test]
    fn no_sites_or_a_star_serves_every_site_and_a_list_only_its_own() {
        assert!(agent(None, &[]).serves("shop"));
        assert!(agent(Some(&["*"]), &[]).serves("shop"));
        assert!(agent(Some(&["demo"]), &[]).serves("demo"));
        assert!(!agent(Some(&["demo"]), &[]).serves("shop"));
    }

    #[test]
    fn a_chat_for_a_team_is_seen_only_by_that_teams_agents_of_the_site() {
        let support = agent(Some(&["demo"]), &["support"]);
        assert!(support.may_see("demo", None));
        assert!(support.may_see("demo", Some("support")));
        assert!(!support.may_see("demo", Some("legal")));
        assert!(!support.may_see("shop", None));
    }
}
