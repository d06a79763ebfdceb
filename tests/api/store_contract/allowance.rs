//! `Allowances`: shared token buckets, all or nothing, refilled at their rate, charged into
//! bounded debt.

use std::time::Duration;

use baton::store::allowance::Bucket;

use super::*;

contract!(
    a_take_is_all_or_nothing_and_keys_are_apart,
    an_empty_bucket_refills_at_its_rate,
    a_charge_takes_any_amount_into_debt_of_at_most_one_burst
);

fn bucket(key: &str, rate: f64, burst: u32) -> Bucket {
    Bucket { key: key.into(), rate, burst }
}

async fn a_take_is_all_or_nothing_and_keys_are_apart(backend: Backend) {
    let allowances = &backend.stores.allowances;
    let (ip, site) = (bucket("ip:a", 0.001, 2), bucket("site:s", 0.001, 3));
    let both = [ip.clone(), site.clone()];
    assert!(allowances.take(&both).await.unwrap());
    assert!(allowances.take(&both).await.unwrap());
    assert!(!allowances.take(&both).await.unwrap(), "the address's bucket is empty");
    // Nothing was taken from the site by the refused call: it has exactly one token left.
    assert!(allowances.take(std::slice::from_ref(&site)).await.unwrap());
    assert!(!allowances.take(std::slice::from_ref(&site)).await.unwrap());
    let other = [bucket("ip:b", 0.001, 2)];
    assert!(allowances.take(&other).await.unwrap(), "another key has its own bucket");
    assert!(allowances.take(&[]).await.unwrap(), "no bucket, nothing to refuse");
}

async fn an_empty_bucket_refills_at_its_rate(backend: Backend) {
    let allowances = &backend.stores.allowances;
    // One token a second, at most one.
    let slow = [bucket("slow", 1.0, 1)];
    assert!(allowances.take(&slow).await.unwrap());
    assert!(!allowances.take(&slow).await.unwrap(), "just emptied");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(allowances.take(&slow).await.unwrap(), "refilled after a token's time");
}

async fn a_charge_takes_any_amount_into_debt_of_at_most_one_burst(backend: Backend) {
    let allowances = &backend.stores.allowances;
    // Ten tokens, refilling at ten a second: a debt of d takes d / 10 seconds to repay.
    let spend = bucket("spend", 10.0, 10);
    let one = std::slice::from_ref(&spend);
    allowances.charge(&spend, 4.0).await.unwrap();
    for _ in 0..6 {
        assert!(allowances.take(one).await.unwrap(), "10 - 4 leaves six");
    }
    // A charge is taken whole, past zero, and the bucket refuses until it is repaid.
    allowances.charge(&spend, 1_000.0).await.unwrap();
    assert!(!allowances.take(one).await.unwrap(), "in debt");
    // The debt is at most one burst (10): repaid, and one token more, within about 1.1 s.
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert!(allowances.take(one).await.unwrap(), "the debt was capped at one burst");
    // Another key is not charged.
    assert!(allowances.take(&[bucket("spend:other", 0.001, 1)]).await.unwrap());
}
