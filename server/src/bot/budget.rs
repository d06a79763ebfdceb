//! A site's model spend cap: `llm.daily_token_budget` tokens in any 24 hours, shared by every
//! node through the live store's [`Allowances`] (a bucket that holds one day's budget and
//! refills it over a day, so spending resumes gradually rather than all at midnight).
//!
//! [`Budgeted`] wraps the model for every request Baton makes (replies, summaries, draft
//! replies): a request is refused with [`LlmError::BudgetSpent`] before anything is sent when
//! the site's bucket is empty, and each request's tokens are charged when its stream ends:
//! the server's own count when it reports `usage` (asked for only when a budget is set),
//! else an estimate of four characters a token over the prompt and the reply. A charge may
//! take the bucket into debt (what a reply costs is known only afterwards), so a site
//! overspends by at most one request. A refused reply falls back as a failed one does: the
//! knowledge base answers where it can, and otherwise the visitor is told the assistant
//! cannot answer more today and that a person can help.

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;

use super::{Chunk, Llm, LlmError, Prompt, ReplyStream};
use crate::config::SiteConfig;
use crate::store::allowance::{Allowances, Bucket};
use crate::telemetry::metrics;

/// Characters per token in the estimate when the server reports no usage.
const CHARS_PER_TOKEN: usize = 4;
const SECONDS_PER_DAY: f64 = 86_400.0;

/// The site's spend bucket, when it has a budget.
pub fn bucket(site: &SiteConfig) -> Option<Bucket> {
    let budget = site.llm.daily_token_budget?;
    Some(Bucket {
        key: format!("llm-tokens:{}", site.id),
        rate: budget as f64 / SECONDS_PER_DAY,
        burst: u32::try_from(budget).unwrap_or(u32::MAX),
    })
}

/// The prompt's size in tokens, estimated.
fn estimate(prompt: &Prompt) -> u64 {
    let chars =
        prompt.system.chars().count() + prompt.messages.iter().map(|m| m.content.chars().count()).sum::<usize>();
    (chars / CHARS_PER_TOKEN) as u64
}

/// The model, with each site's budget enforced; prompts without a budget pass through.
pub struct Budgeted {
    inner: Arc<dyn Llm>,
    allowances: Arc<dyn Allowances>,
}

impl Budgeted {
    pub fn new(inner: Arc<dyn Llm>, allowances: Arc<dyn Allowances>) -> Budgeted {
        Budgeted { inner, allowances }
    }
}

/// What one request has cost so far: the server's count once it reports one, else the
/// estimate grown by the reply's characters.
struct Meter {
    bucket: Bucket,
    site: String,
    reported: Option<u64>,
    estimate: u64,
    reply_chars: usize,
}

impl Meter {
    fn tokens(&self) -> u64 {
        self.reported.unwrap_or(self.estimate + (self.reply_chars / CHARS_PER_TOKEN) as u64)
    }
}

/// Charges the request when its stream ends or is dropped (a reply cut off by a takeover
/// still cost what it streamed).
struct Charge {
    meter: Meter,
    allowances: Arc<dyn Allowances>,
}

impl Drop for Charge {
    fn drop(&mut self) {
        let tokens = self.meter.tokens();
        metrics::llm_tokens(&self.meter.site, tokens);
        let (allowances, bucket) = (self.allowances.clone(), self.meter.bucket.clone());
        // The admission took one token already.
        let amount = tokens.saturating_sub(1) as f64;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = allowances.charge(&bucket, amount).await {
                    tracing::warn!(%error, key = %bucket.key, "a model request's tokens were not charged");
                }
            });
        }
    }
}

#[async_trait]
impl Llm for Budgeted {
    async fn start(&self, prompt: &Prompt) -> Result<ReplyStream, LlmError> {
        let Some((bucket, site)) = prompt.budget.clone() else { return self.inner.start(prompt).await };
        let admitted = self.allowances.take(std::slice::from_ref(&bucket)).await.unwrap_or_else(|error| {
            // The store is what is failing; the model is not refused for it.
            tracing::warn!(%error, "the model budget could not be read; the request goes ahead");
            true
        });
        if !admitted {
            return Err(LlmError::BudgetSpent);
        }
        let meter = Meter { bucket, site, reported: None, estimate: estimate(prompt), reply_chars: 0 };
        let mut charge = Charge { meter, allowances: self.allowances.clone() };
        let stream = match self.inner.start(prompt).await {
            Ok(stream) => stream,
            // Nothing was generated: only the admission's token is spent.
            Err(error) => {
                charge.meter.estimate = 0;
                return Err(error);
            }
        };
        let metered = stream.map(move |item| {
            // The whole `Charge` moves into the stream (not just the fields counted), so it is
            // dropped, and charged, with the stream.
            let meter = &mut charge.meter;
            match &item {
                Ok(Chunk::Text(text)) => meter.reply_chars += text.chars().count(),
                Ok(Chunk::Usage(total)) => meter.reported = Some(*total),
                _ => {}
            }
            item
        });
        Ok(Box::pin(metered))
    }

    fn is_model(&self) -> bool {
        self.inner.is_model()
    }
}
