//! The Redis store's [`Allowances`]: one hash per bucket, `{ns}:allow:<key>`, taken from by
//! `allowance.lua` (all the buckets of one call in one atomic step) and charged by
//! `charge.lua`.

use async_trait::async_trait;

use super::{RedisStore, unavailable};
use crate::store::StoreError;
use crate::store::allowance::{Allowances, Bucket};

#[async_trait]
impl Allowances for RedisStore {
    async fn take(&self, buckets: &[Bucket]) -> Result<bool, StoreError> {
        if buckets.is_empty() {
            return Ok(true);
        }
        let mut call = self.scripts.allowance.prepare_invoke();
        for bucket in buckets {
            call.key(self.keys.allowance(&bucket.key)).arg(bucket.rate.max(f64::MIN_POSITIVE)).arg(bucket.burst);
        }
        let taken: i64 = call.invoke_async(&mut self.conn()).await.map_err(unavailable)?;
        Ok(taken == 1)
    }

    async fn charge(&self, bucket: &Bucket, amount: f64) -> Result<(), StoreError> {
        let _: i64 = self
            .scripts
            .charge
            .key(self.keys.allowance(&bucket.key))
            .arg(bucket.rate.max(f64::MIN_POSITIVE))
            .arg(bucket.burst)
            .arg(amount.max(0.0))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
