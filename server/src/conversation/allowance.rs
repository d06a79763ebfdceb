//! Whether a new conversation may start: the allowances every node shares (per client
//! address, per site), counted in the store so the limits hold across a cluster.

use std::net::IpAddr;

use super::Conversations;
use crate::config::Limits;
use crate::store::allowance::Bucket;

impl Conversations {
    /// Takes a new conversation from the client's and the site's allowances shared by every
    /// node (`limits.conversations_per_*`, counted in the store): `false` when either is
    /// spent. `client` is the address as limits count it (an IPv6 client by its /64). A store
    /// that cannot answer does not refuse: opening the conversation then reports it.
    pub async fn may_start(&self, client: IpAddr, site: &str, limits: &Limits) -> bool {
        let hourly = |n: u32| f64::from(n) / 3600.0;
        let buckets = [
            Bucket {
                key: format!("conversations:ip:{client}"),
                rate: hourly(limits.conversations_per_ip_per_hour),
                burst: limits.conversations_per_ip_burst,
            },
            Bucket {
                key: format!("conversations:site:{site}"),
                rate: hourly(limits.conversations_per_site_per_hour),
                burst: limits.conversations_per_site_burst,
            },
        ];
        match self.stores.allowances.take(&buckets).await {
            Ok(taken) => taken,
            Err(error) => {
                tracing::warn!(%error, "shared conversation limits unavailable; counting this node's only");
                true
            }
        }
    }
}
