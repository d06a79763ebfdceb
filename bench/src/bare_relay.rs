//! The ceiling of Baton's stack: actix-web + actix-ws and nothing else, served the way Baton
//! serves its sockets (`baton::http::transport::server`: upgraded sockets leave actix-http's
//! dispatcher) or, with `--stock`, by actix-web's own `HttpServer`. `GET /ws?pair=N` joins the
//! first two sockets that name the same pair; every text frame one sends goes to the other.
//! No parsing, no storage, no sequence numbers, no acknowledgements.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use actix_ws::{AggregatedMessage, Session};
use futures_util::StreamExt;

/// Waiting halves and joined pairs. Short-held: a lookup or insert per socket, never awaited.
#[derive(Default)]
struct Pairs {
    sessions: Mutex<HashMap<u64, Vec<Session>>>,
}

/// Which server runs the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Baton's: the same server builder and upgrade path as `baton serve`.
    Baton,
    /// actix-web's `HttpServer`, whose HTTP/1 dispatcher keeps every socket.
    Stock,
}

pub fn serve(port: u16, transport: Transport) -> anyhow::Result<()> {
    let pairs = web::Data::new(Pairs::default());
    actix_web::rt::System::new().block_on(async move {
        let app = move || App::new().app_data(pairs.clone()).route("/ws", web::get().to(socket));
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        match transport {
            Transport::Baton => baton::http::transport::server(listener, 30, app)?.0.await,
            Transport::Stock => {
                HttpServer::new(app)
                    .backlog(4096)
                    // Frames are small and written one by one: without this, Nagle holds the
                    // second frame of a burst until the client's delayed ACK (up to 40 ms).
                    .tcp_nodelay(true)
                    .max_connections(100_000)
                    .listen(listener)?
                    .run()
                    .await
            }
        }
    })?;
    Ok(())
}

async fn socket(
    request: HttpRequest,
    body: web::Payload,
    pairs: web::Data<Pairs>,
    query: web::Query<HashMap<String, String>>,
) -> actix_web::Result<HttpResponse> {
    let pair: u64 = query.get("pair").and_then(|p| p.parse().ok()).unwrap_or(0);
    let (response, session, stream) = actix_ws::handle(&request, body)?;
    let mut stream = stream.aggregate_continuations().max_continuation_size(64 * 1024);
    let pairs: Arc<Pairs> = pairs.into_inner();
    let me = {
        let mut sessions = pairs.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let list = sessions.entry(pair).or_default();
        list.push(session.clone());
        list.len() - 1
    };
    actix_web::rt::spawn(async move {
        let mut session = session;
        let mut peer: Option<Session> = None;
        while let Some(Ok(message)) = stream.next().await {
            match message {
                AggregatedMessage::Text(text) => {
                    if peer.is_none() {
                        let sessions = pairs.sessions.lock().unwrap_or_else(|p| p.into_inner());
                        peer = sessions.get(&pair).and_then(|list| list.get(1 - me.min(1))).cloned();
                    }
                    if let Some(peer) = peer.as_mut() {
                        let _ = peer.text(text).await;
                    }
                }
                AggregatedMessage::Ping(bytes) => {
                    let _ = session.pong(&bytes).await;
                }
                AggregatedMessage::Close(_) => break,
                _ => {}
            }
        }
        pairs.sessions.lock().unwrap_or_else(|p| p.into_inner()).remove(&pair);
        let _ = session.close(None).await;
    });
    Ok(response)
}
