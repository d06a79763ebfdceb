//! Upgraded sockets leave actix-http's HTTP/1 dispatcher.
//!
//! The dispatcher keeps an 8 KiB read buffer and an 8 KiB write buffer per connection, and a
//! task of its own, for as long as the connection lives: for an idle WebSocket that was most
//! of what it cost. Here the server takes every `Connection: Upgrade` request through actix's
//! upgrade hook instead: the request still runs through the same [`App`](actix_web::App)
//! (routing, middleware, the socket handlers in [`crate::http::routes`], which hand the socket to
//! actix-ws as before), and then:
//!
//! - a `101 Switching Protocols` response is written; then a handler that took the socket
//!   over ([`Takeover`](super::takeover::Takeover): Baton's sessions) gets the connection's writing half and writes its
//!   frames itself, and otherwise the response's body (the frames actix-ws encodes) is copied
//!   to the socket by a small task of its own; the client's bytes reach the handler through
//!   [`Reader`], which holds no buffer between reads;
//! - any other response (a refused socket, or a plain route asked to upgrade) is written
//!   whole, then the connection closes.
//!
//! The bytes on the wire are the ones the dispatcher would have written: the same codec, in
//! the state the request left it, encodes the head.

use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_codec::{Encoder, Framed};
use actix_http::body::MessageBody;
use actix_http::error::PayloadError;
use actix_http::h1::{Codec, Message};
use actix_http::{BoxedPayloadStream, HttpService, Payload, Request, Response, StatusCode};
use actix_service::{IntoServiceFactory, ServiceFactoryExt, map_config};
use actix_web::dev::{AppConfig, Service, ServiceFactory, ServiceRequest, ServiceResponse, fn_factory, fn_service};
use actix_web::http::KeepAlive;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpMessage, HttpResponse};
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::Notify;

use super::takeover::Takeover;

/// Upgraded sockets one worker holds at most: actix-server's default connection limit per
/// worker (25,600), which no longer counts a socket once it has left the dispatcher. Past it
/// an upgrade is answered 503.
pub const MAX_SOCKETS_PER_WORKER: usize = 25_600;

/// Bytes read from the socket at a time (on the stack; only what arrived is kept).
const READ_CHUNK: usize = 8 * 1024;

/// Bytes read in a row before the reader lets its consumer catch up. actix-ws drains its
/// payload until it is pending; the dispatcher's payload paused reading at 32 KiB buffered,
/// and this keeps that bound on what one poll can take in from a fast client.
const READ_BUDGET: usize = 32 * 1024;

/// What actix-http hands the upgrade service: the request and the connection.
type Upgrade = (Request, Framed<TcpStream, Codec>);

/// The upgraded sockets of this process, across workers: what a graceful shutdown waits for,
/// as actix-server waits for its connections.
#[derive(Default)]
pub struct Sockets {
    open: AtomicUsize,
    closed: Notify,
}

impl Sockets {
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Resolves once no upgraded socket is open.
    pub async fn drained(&self) {
        loop {
            let mut closed = pin!(self.closed.notified());
            closed.as_mut().enable();
            if self.open() == 0 {
                return;
            }
            closed.await;
        }
    }
}

/// What `actix_web::HttpServer` builds, with its defaults, plus the upgrade hook: the server
/// for `listener`, serving `app` on every worker, and the count of its upgraded sockets (what
/// a graceful stop waits for besides connections). Both the HTTP service and the upgrade
/// service run the same app. Signals are left to the caller.
pub fn server<F, T, B>(
    listener: std::net::TcpListener,
    shutdown_timeout_secs: u64,
    app: F,
) -> io::Result<(actix_web::dev::Server, Arc<Sockets>)>
where
    F: Fn() -> actix_web::App<T> + Send + Clone + 'static,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let builder = actix_server::Server::build().disable_signals().shutdown_timeout(shutdown_timeout_secs);
    let graceful = builder.graceful_shutdown_signal();
    let address = listener.local_addr()?;
    let sockets = Arc::new(Sockets::default());
    let counted = sockets.clone();
    let server = builder
        .listen(format!("actix-web-service-{address}"), listener, move || {
            let graceful = graceful.clone();
            let http = app().into_factory().map_err(|error| error.error_response());
            let upgrades = map_config(app(), app_config);
            HttpService::build()
                .graceful_shutdown_signal(move || {
                    let graceful = graceful.clone();
                    async move { graceful.notified().await }
                })
                .keep_alive(KeepAlive::default())
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .h1_allow_half_closed(true)
                .local_addr(address)
                // Sockets write many small frames (ack, echo, deltas, state); with Nagle's
                // algorithm each waits for the peer's delayed ACK, up to 40 ms.
                .tcp_nodelay(true)
                .upgrade(upgrade(upgrades, counted.clone()))
                .finish(map_config(http, app_config))
                .tcp()
        })?
        .run();
    Ok((server, sockets))
}

/// What `HttpServer` gives the app but the host and address it was bound to, which Baton
/// never reads (no URL generation, no `ConnectionInfo`).
fn app_config(_: ()) -> AppConfig {
    AppConfig::default()
}

/// The upgrade service for [`actix_http::HttpServiceBuilder::upgrade`]: `app` answers each
/// upgrade request as it would any request (see the module documentation).
pub fn upgrade<A, B>(
    app: A,
    sockets: Arc<Sockets>,
) -> impl ServiceFactory<Upgrade, Config = (), Response = (), Error = actix_web::Error, InitError = ()>
where
    A: ServiceFactory<Request, Config = (), Response = ServiceResponse<B>, Error = actix_web::Error, InitError = ()>
        + 'static,
    A::Service: 'static,
    B: MessageBody + 'static,
{
    let app = Rc::new(app);
    fn_factory(move || {
        let app = app.clone();
        let sockets = sockets.clone();
        async move {
            let app = Rc::new(app.new_service(()).await?);
            let open = Counts { worker: Rc::new(Cell::new(0)), process: sockets };
            Ok(fn_service(move |(request, framed): Upgrade| serve(app.clone(), open.clone(), request, framed)))
        }
    })
}

/// Open upgraded sockets: this worker's (for the limit) and the process's (for shutdown).
#[derive(Clone)]
pub(super) struct Counts {
    worker: Rc<Cell<usize>>,
    process: Arc<Sockets>,
}

async fn serve<S, B>(
    app: Rc<S>,
    open: Counts,
    request: Request,
    framed: Framed<TcpStream, Codec>,
) -> Result<(), actix_web::Error>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let parts = framed.into_parts();
    let mut codec = parts.codec;
    // Bytes the client sent after the request head belong to the socket; the dispatcher's
    // buffers themselves are dropped here.
    let early = (!parts.read_buf.is_empty()).then(|| Bytes::copy_from_slice(&parts.read_buf));
    drop(parts.read_buf);
    drop(parts.write_buf);
    let (reader, writer) = parts.io.into_split();
    if open.worker.get() >= MAX_SOCKETS_PER_WORKER {
        tracing::warn!(open = open.worker.get(), "too many open sockets on this worker; refusing an upgrade");
        let refused = HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "error": "unavailable", "message": "too many open sockets" }));
        return Ok(respond(Response::from(refused), &mut codec, writer, None).await?);
    }
    let payload: BoxedPayloadStream = Box::pin(Reader { half: reader, early, streak: 0 });
    let (request, _) = request.replace_payload(Payload::from(payload));
    let takeover = Takeover::default();
    request.extensions_mut().insert(takeover.clone());
    let upgrade = Some((open, takeover));
    let result = match app.call(request).await {
        Ok(response) => respond(Response::from(response), &mut codec, writer, upgrade).await,
        Err(error) => respond(Response::from(error.error_response()), &mut codec, writer, upgrade).await,
    };
    if let Err(error) = &result {
        tracing::debug!(%error, "could not answer an upgrade request");
    }
    Ok(())
}

/// Writes the response head; after a `101` the socket's writing side goes to the session
/// that took it over, or else to a task that copies the body to it. Any other body is written
/// whole and the connection closes. `upgrade` is `None` for a refused upgrade.
async fn respond<B>(
    response: Response<B>,
    codec: &mut Codec,
    mut writer: OwnedWriteHalf,
    upgrade: Option<(Counts, Takeover)>,
) -> io::Result<()>
where
    B: MessageBody + 'static,
{
    let (head, body) = response.into_parts();
    let switching = head.status() == StatusCode::SWITCHING_PROTOCOLS;
    let mut out = BytesMut::new();
    codec.encode(Message::Item((head, body.size())), &mut out)?;
    if switching && let Some((open, takeover)) = upgrade {
        writer.write_all(&out).await?;
        if let Some((writer, slot)) = takeover.begin(writer, Slot::take(open)) {
            // Boxed: moved into the task's future unboxed, the body would be stored twice there.
            actix_web::rt::spawn(copy_out(Box::pin(body), writer, slot));
        }
        return Ok(());
    }
    let mut body = pin!(body);
    while let Some(chunk) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        let chunk = chunk.map_err(|error| io::Error::other(error.into().to_string()))?;
        codec.encode(Message::Chunk(Some(chunk)), &mut out)?;
    }
    codec.encode(Message::Chunk(None), &mut out)?;
    writer.write_all(&out).await?;
    writer.shutdown().await
}

/// Copies a socket's frames to the client until the session ends or the client goes away.
/// Each chunk is everything actix-ws had queued when polled, so one write per wake-up.
async fn copy_out<B: MessageBody>(mut body: Pin<Box<B>>, mut writer: OwnedWriteHalf, _slot: Slot) {
    while let Some(Ok(chunk)) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        // The head told the client to read until the connection closes: chunks go as they are.
        if writer.write_all(&chunk).await.is_err() {
            return;
        }
    }
    let _ = writer.shutdown().await;
}

/// One upgraded socket, counted while it lives.
pub(super) struct Slot(Counts);

impl Slot {
    pub(super) fn take(open: Counts) -> Slot {
        open.worker.set(open.worker.get() + 1);
        open.process.open.fetch_add(1, Ordering::SeqCst);
        Slot(open)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let open = &self.0;
        open.worker.set(open.worker.get() - 1);
        if open.process.open.fetch_sub(1, Ordering::SeqCst) == 1 {
            open.process.closed.notify_waiters();
        }
    }
}

/// The client's side of a socket as a request payload: the bytes of each read, sized to what
/// arrived, and nothing held in between.
struct Reader {
    half: OwnedReadHalf,
    early: Option<Bytes>,
    /// Bytes handed out since the socket last had nothing to read (or since the last pause).
    streak: usize,
}

impl Stream for Reader {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(early) = this.early.take() {
            this.streak = early.len();
            return Poll::Ready(Some(Ok(early)));
        }
        if this.streak >= READ_BUDGET {
            this.streak = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut space = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
        let mut read = ReadBuf::uninit(&mut space);
        match Pin::new(&mut this.half).poll_read(cx, &mut read) {
            Poll::Pending => {
                this.streak = 0;
                Poll::Pending
            }
            Poll::Ready(Err(error)) => Poll::Ready(Some(Err(PayloadError::Io(error)))),
            Poll::Ready(Ok(())) if read.filled().is_empty() => Poll::Ready(None),
            Poll::Ready(Ok(())) => {
                this.streak += read.filled().len();
                Poll::Ready(Some(Ok(Bytes::copy_from_slice(read.filled()))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_http::HttpService;
    use actix_service::map_config;
    use actix_web::dev::AppConfig;
    use actix_web::{App, HttpRequest, web};
    use futures_util::StreamExt;
    use tokio::io::AsyncReadExt;

    use super::*;

    /// Echoes text frames.
    async fn echo(request: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
        let (response, mut session, mut stream) = actix_ws::handle(&request, body)?;
        actix_web::rt::spawn(async move {
            while let Some(Ok(actix_ws::Message::Text(text))) = stream.next().await {
                if session.text(text).await.is_err() {
                    return;
                }
            }
        });
        Ok(response)
    }

    /// A server with the upgrade hook on a free port, its address and its socket count.
    fn serve() -> (actix_web::dev::Server, std::net::SocketAddr, Arc<Sockets>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let sockets = Arc::new(Sockets::default());
        let counted = sockets.clone();
        let app = || App::new().route("/ws", web::get().to(echo)).route("/plain", web::get().to(|| async { "plain" }));
        let server = actix_server::Server::build()
            .workers(1)
            .disable_signals()
            .listen("test", listener, move || {
                HttpService::build()
                    .upgrade(upgrade(map_config(app(), |_: ()| AppConfig::default()), counted.clone()))
                    .finish(map_config(app(), |_: ()| AppConfig::default()))
                    .tcp()
            })
            .unwrap()
            .run();
        (server, address, sockets)
    }

    const UPGRADE: &str = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    /// A client's (masked) text frame.
    fn text_frame(text: &str) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut frame = vec![0x81, 0x80 | u8::try_from(text.len()).unwrap()];
        frame.extend_from_slice(&mask);
        frame.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        frame
    }

    /// Reads until `wanted` has arrived (or the connection ends), with a deadline.
    async fn read_until(client: &mut TcpStream, seen: &mut Vec<u8>, wanted: &[u8]) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while !seen.windows(wanted.len()).any(|w| w == wanted) {
                let mut chunk = [0u8; 1024];
                let n = client.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection ended before {:?}", String::from_utf8_lossy(wanted));
                seen.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .expect("in time");
    }

    #[actix_web::test]
    async fn a_frame_sent_with_the_handshake_reaches_the_session_and_the_socket_is_counted() {
        let (server, address, sockets) = serve();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let mut client = TcpStream::connect(address).await.unwrap();
        let mut first = UPGRADE.as_bytes().to_vec();
        first.extend(text_frame("hello"));
        client.write_all(&first).await.unwrap();
        let mut seen = Vec::new();
        read_until(&mut client, &mut seen, b"HTTP/1.1 101 Switching Protocols").await;
        read_until(&mut client, &mut seen, b"\x81\x05hello").await;
        assert_eq!(sockets.open(), 1);
        client.write_all(&text_frame("again")).await.unwrap();
        read_until(&mut client, &mut seen, b"\x81\x05again").await;
        drop(client);
        tokio::time::timeout(Duration::from_secs(5), sockets.drained()).await.expect("the socket is released");
        handle.stop(false).await;
    }

    #[actix_web::test]
    async fn a_plain_route_asked_to_upgrade_answers_in_full_then_closes() {
        let (server, address, sockets) = serve();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let mut client = TcpStream::connect(address).await.unwrap();
        let request = "GET /plain HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        client.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut answer)).await.unwrap().unwrap();
        let answer = String::from_utf8(answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\nplain"), "{answer}");
        assert_eq!(sockets.open(), 0);
        handle.stop(false).await;
    }

    #[tokio::test]
    async fn the_reader_pauses_after_its_budget_and_then_goes_on() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let sent = vec![7u8; 4 * READ_BUDGET];
        client.write_all(&sent).await.unwrap();
        client.shutdown().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (half, _keep) = server.into_split();
        let mut reader = Reader { half, early: Some(Bytes::from_static(b"early")), streak: 0 };
        let (mut received, mut in_a_row, mut longest, mut pauses) = (Vec::new(), 0, 0, 0);
        loop {
            match futures_util::poll!(reader.next()) {
                Poll::Ready(Some(Ok(bytes))) => {
                    in_a_row += bytes.len();
                    longest = longest.max(in_a_row);
                    received.extend_from_slice(&bytes);
                }
                Poll::Ready(None) => break,
                Poll::Ready(Some(Err(error))) => panic!("{error}"),
                Poll::Pending => {
                    pauses += 1;
                    in_a_row = 0;
                    tokio::task::yield_now().await;
                }
            }
        }
        assert_eq!(&received[..5], b"early");
        assert_eq!(&received[5..], &sent[..]);
        assert!(longest < READ_BUDGET + READ_CHUNK, "{longest} bytes in one go");
        assert!(pauses >= 3, "{pauses} pauses");
    }

    #[actix_web::test]
    async fn drained_waits_for_the_last_socket() {
        let sockets = Arc::new(Sockets::default());
        let open = Counts { worker: Rc::new(Cell::new(0)), process: sockets.clone() };
        let (a, b) = (Slot::take(open.clone()), Slot::take(open.clone()));
        assert_eq!((sockets.open(), open.worker.get()), (2, 2));
        let mut drained = pin!(sockets.drained());
        assert!(futures_util::poll!(drained.as_mut()).is_pending());
        drop(a);
        assert!(futures_util::poll!(drained.as_mut()).is_pending());
        drop(b);
        assert!(futures_util::poll!(drained.as_mut()).is_ready());
        assert_eq!(open.worker.get(), 0);
    }
}
