//! A real HTTP receiver of webhooks for the tests: an actix server on a free port that
//! records every delivery as it arrives (before answering), checks its `Baton-Signature`
//! with its own HMAC (not Baton's code), and answers as scripted: the first `fail_first`
//! requests get 500, each answer can be held back, and every `fail_every`-th gets 500.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub body: Value,
    /// The signature matched the secret, over the raw body, with a `t` within 5 minutes.
    pub signed: bool,
    /// What the receiver answered.
    pub status: u16,
    /// The `Baton-Signature` header and the raw body, to check against other secrets.
    pub header: String,
    pub raw: Vec<u8>,
}

#[derive(Default)]
struct Script {
    secret: String,
    fail_first: usize,
    fail_every: usize,
    delay: Duration,
    requests: usize,
    in_flight: usize,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook receiver");
        let port = listener.local_addr().unwrap().port();
        let receiver = Receiver { url: format!("http://127.0.0.1:{port}/hooks"), script: Arc::default() };
        let state = receiver.clone();
        let server = HttpServer::new(move || {
            App::new().app_data(web::Data::new(state.clone())).route("/hooks", web::post().to(receive))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        receiver
    }

    pub fn set_secret(&self, secret: &str) {
        self.script.lock().unwrap().secret = secret.to_owned();
    }

    /// The next `n` requests get 500.
    pub fn fail_first(&self, n: usize) {
        self.script.lock().unwrap().fail_first = n;
    }

    /// Every `n`-th request gets 500 (0: none).
    pub fn fail_every(&self, n: usize) {
        self.script.lock().unwrap().fail_every = n;
    }

    /// Each answer waits this long.
    pub fn delay(&self, delay: Duration) {
        self.script.lock().unwrap().delay = delay;
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    /// Requests that arrived and are not answered yet.
    pub fn in_flight(&self) -> usize {
        self.script.lock().unwrap().in_flight
    }

    /// Waits until `done` holds for what arrived (panics after `within`).
    pub async fn wait_until(&self, within: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(tokio::time::Instant::now() < deadline, "the receiver never got what was expected: {received:#?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(req: HttpRequest, body: Bytes, receiver: web::Data<Receiver>) -> HttpResponse {
    let header = req.headers().get("Baton-Signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (status, delay) = {
        let mut script = receiver.script.lock().unwrap();
        script.requests += 1;
        let n = script.requests;
        let failing = n <= script.fail_first || (script.fail_every > 0 && n.is_multiple_of(script.fail_every));
        let status = if failing { 500 } else { 200 };
        let signed = verify(&script.secret, &header, &body);
        let raw = body.to_vec();
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        script.received.push(Received { body, signed, status, header: header.clone(), raw });
        script.in_flight += 1;
        (status, script.delay)
    };
    tokio::time::sleep(delay).await;
    receiver.script.lock().unwrap().in_flight -= 1;
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body("")
}

/// `t=…,v1=…` over `"{t}.{body}"`, as a receiver in any language would check it: any of
/// the `v1`s (one per secret during a rotation) may match.
pub(crate) fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let parts: Vec<(&str, &str)> = header.split(',').filter_map(|p| p.split_once('=')).collect();
    let Some(t) = parts.iter().find(|(k, _)| *k == "t").map(|(_, v)| *v) else { return false };
    let Ok(t) = t.parse::<i64>() else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let fresh = (chrono::Utc::now().timestamp() - t).abs() <= 300;
    fresh && parts.iter().any(|(k, v)| *k == "v1" && *v == expected)
}
