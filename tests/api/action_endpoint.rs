//! A real HTTP endpoint of a site's bot action for the tests: an actix server on a free port
//! that records every call as it arrives (its secret header and JSON body) and answers with
//! the scripted body, after the scripted delay.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

/// One call as it arrived.
#[derive(Clone, Debug)]
pub struct Call {
    /// The value of the `Baton-Action-Secret` header, if any.
    pub secret: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Script {
    answer: String,
    delay: Duration,
    calls: Vec<Call>,
}

#[derive(Clone)]
pub struct Endpoint {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl Endpoint {
    /// Answers every call with `answer` (JSON text).
    pub fn start(answer: &str) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the action endpoint");
        let port = listener.local_addr().unwrap().port();
        let script = Script { answer: answer.to_owned(), ..Script::default() };
        let endpoint =
            Endpoint { url: format!("http://127.0.0.1:{port}/action"), script: Arc::new(Mutex::new(script)) };
        let state = endpoint.clone();
        let server = HttpServer::new(move || {
            App::new().app_data(web::Data::new(state.clone())).route("/action", web::post().to(answer_call))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        endpoint
    }

    /// Each answer waits this long.
    pub fn delay(&self, delay: Duration) {
        self.script.lock().unwrap().delay = delay;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.script.lock().unwrap().calls.clone()
    }
}

async fn answer_call(req: HttpRequest, body: Bytes, endpoint: web::Data<Endpoint>) -> HttpResponse {
    let secret = req.headers().get("Baton-Action-Secret").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (answer, delay) = {
        let mut script = endpoint.script.lock().unwrap();
        script.calls.push(Call { secret, body: serde_json::from_slice(&body).unwrap_or(Value::Null) });
        (script.answer.clone(), script.delay)
    };
    tokio::time::sleep(delay).await;
    HttpResponse::Ok().content_type("application/json").body(answer)
}
