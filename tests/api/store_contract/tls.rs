//! Redis over TLS (`rediss://`): the contract suite runs over it (`redis_tls_store`); here,
//! what the certificate check refuses and what the settings refuse.

use baton::store::redis::RedisStore;

use super::*;

#[tokio::test]
async fn a_server_whose_certificate_no_trusted_ca_signed_is_not_ready() {
    let server = RedisServer::tls();
    // The system's roots do not include the test's CA: the handshake fails, so the node is
    // up but not ready, and nothing is stored.
    let settings = redis_settings(&server.tls_url(), &namespace());
    let (_, sink) = recorder();
    let store = RedisStore::connect(&settings, sink).await.expect("an unreachable store still starts");
    let stores = Stores::new(Arc::new(store));
    assert!(stores.log.ping().await.is_err(), "an untrusted certificate is refused");
    let trusted = redis_tls().await;
    trusted.stores.log.ping().await.expect("the same server with its CA trusted is ready");
}

#[tokio::test]
async fn a_ca_file_needs_a_tls_url_and_a_readable_pem() {
    let server = RedisServer::tls();
    let (_, sink) = recorder();
    let mut plain = redis_settings(&server.url(), &namespace());
    plain.redis_ca_file = Some(server.ca_file());
    let error = RedisStore::connect(&plain, sink.clone()).await.err().expect("redis:// with a CA file is refused");
    assert!(error.to_string().contains("store.redis_ca_file"), "{error}");
    let mut missing = redis_settings(&server.tls_url(), &namespace());
    missing.redis_ca_file = Some(server.ca_file().with_file_name("absent.pem"));
    let error = RedisStore::connect(&missing, sink).await.err().expect("a missing CA file is refused");
    assert!(format!("{error:#}").contains("absent.pem"), "{error:#}");
}
