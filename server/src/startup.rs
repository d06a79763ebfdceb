//! Wiring: builds the store, hub, bot, conversations and agents from settings, binds the
//! listener, and runs the HTTP server until a signal asks it to stop. Nothing but `main` (and
//! tests, which start the real server) uses this module.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::Compress;
use actix_web::{App, web};
use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::agents::Directory;
use crate::agents::desk::Desk;
use crate::agents::inactivity::Inactivity;
use crate::agents::janitor::Janitor;
use crate::agents::presence::Presences;
use crate::agents::router::{Router, RouterHandoffs};
use crate::archive::Archive;
use crate::archive::archiver::Archiver;
use crate::archive::audit::AuditLog;
use crate::archive::masking::ArchiveMasks;
use crate::archive::sql::SqlArchive;
use crate::attachments::Attachments;
use crate::bot::Llm;
use crate::bot::assist::Assist;
use crate::bot::budget::Budgeted;
use crate::bot::offline::OfflineLlm;
use crate::bot::openai::OpenAiLlm;
use crate::bot::probe::ModelProbe;
use crate::bot::reply::Replier;
use crate::bot::slots::Slots;
use crate::changes::Changes;
use crate::config::Settings;
use crate::conversation::Conversations;
use crate::http::api::Api;
use crate::http::metrics::Scrape;
use crate::http::transport::{self, Sockets};
use crate::http::{Http, routes};
use crate::hub::Hub;
use crate::mail::{Mail, ResumeLinks, Sender};
use crate::session::{AgentContext, Guards, VisitorContext};
use crate::sites::Sites;
use crate::store::Stores;
use crate::store::memory::MemoryStore;
use crate::store::redis::RedisStore;

/// How often the in-memory store forgets conversations idle past the retention.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How long a starting node waits for the archive to read the owner's changes before it
/// serves the files as they are (its loop applies the changes once the archive answers).
const START_CHANGES_WAIT: Duration = Duration::from_secs(5);

pub struct Application {
    port: u16,
    server: Server,
    shutdown: CancellationToken,
    stores: Stores,
    archive: Arc<dyn Archive>,
    attachments: Attachments,
    /// Upgraded sockets, which actix-server no longer counts as its connections.
    sockets: Arc<Sockets>,
    shutdown_timeout: Duration,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        // First, so that every handle registered from here on counts. With metrics off no
        // recorder is installed, so every counter and histogram is a no-op.
        if settings.metrics.enabled {
            crate::telemetry::metrics::install();
        }
        let hub = Hub::new();
        let stores = build_store(&settings, &hub).await?;
        let Models { answerer, model, probe } = build_llm(&settings, &stores)?;
        for site in &settings.sites {
            settings.actions.check_site(site).map_err(anyhow::Error::msg)?;
        }
        let sites = Sites::load(&settings.sites, crate::bot::embeddings::Embedder::from_settings(&settings.llm)?)?;
        let slots = Slots::new(settings.llm.max_concurrent, settings.llm.queue_timeout());
        let assist = Assist::new(model, slots.clone(), settings.llm.clone());
        let replier = Replier::new(
            answerer,
            slots,
            stores.log.clone(),
            stores.pubsub.clone(),
            hub.clone(),
            settings.llm.clone(),
            settings.actions.clone(),
        );
        if let Some(probe) = &probe {
            let probe = probe.clone();
            tokio::spawn(async move { probe.check_at_start().await });
        }
        let shutdown = CancellationToken::new();
        let sql = build_archive(&settings, &stores, &shutdown).await?;
        let archive: Arc<dyn Archive> = sql.clone();
        let mail = build_mail(&settings, &sql, &shutdown).await?;
        let mut conversations = Conversations::new(stores.clone(), replier).with_model_probe(probe);
        if let Some((mail, links)) = mail.clone() {
            conversations = conversations.with_mail(mail, links);
        }
        let directory = Directory::new(settings.agents.clone());
        let changes = Changes::new(
            sql.clone(),
            sites.clone(),
            directory.clone(),
            &settings.sites,
            settings.agents.clone(),
            stores.pubsub.clone(),
        );
        apply_owner_changes(&changes, &sql).await;
        changes.clone().spawn(&hub, settings.api.changes_poll(), shutdown.clone());
        let grace = settings.handoff.presence_grace();
        let presences = Presences::new(stores.presence.clone(), stores.handoff.clone(), directory, grace);
        let router = Router::new(conversations.clone(), &stores, sites.clone(), presences, assist.clone());
        let attachments = Attachments::open(&settings.attachments, &settings.sites)?;
        let audit = AuditLog::spawn(sql.clone(), shutdown.clone());
        let desk = Desk::new(router.clone(), &stores, sites.clone(), assist, attachments.clone())
            .with_mail(mail.map(|(mail, _)| mail))
            .with_answer_timeout(settings.handoff.answer_timeout_secs)
            .with_audit(audit);
        conversations.set_handoffs(Arc::new(RouterHandoffs { router: router.clone(), desk: desk.clone() }));
        let inactivity = Inactivity::new(conversations.clone(), router.clone(), stores.clone(), sites.clone());
        inactivity.spawn(Duration::from_secs(settings.handoff.inactivity_secs), shutdown.clone());
        let janitor = Janitor::new(router, stores.handoff.clone(), settings.handoff.clone());
        janitor.spawn(Duration::from_secs(settings.handoff.janitor_secs), shutdown.clone());
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).with_context(|| format!("Failed to bind {address}"))?;
        let port = listener.local_addr().context("Failed to read the bound address")?.port();
        let limits = settings.limits.clone();
        let guards = Arc::new(Guards::new(&limits));
        attachments.spawn_retention(crate::archive::retention::policies(&settings.sites), shutdown.clone());
        let visitor = Arc::new(VisitorContext {
            conversations: conversations.clone(),
            attachments: attachments.clone(),
            hub: hub.clone(),
            limits: limits.clone(),
            guards: guards.clone(),
            shutdown: shutdown.clone(),
        });
        let agent = Arc::new(AgentContext { desk, conversations, hub, limits, guards, shutdown: shutdown.clone() });
        let agent_origins = settings.server.agent_origins()?;
        let metrics = settings.metrics.enabled.then(|| {
            let gauges = crate::agents::gauges::Gauges::new(&stores, sites.clone());
            Scrape::new(&settings.metrics, crate::telemetry::metrics::install(), gauges)
        });
        let api = Api::new(sql.clone(), sites.clone(), &stores, settings.api.clone(), &agent)
            .with_webhooks(settings.webhooks.clone())
            .with_attachments(attachments.clone())
            .with_changes(changes);
        let api = web::Data::new(api);
        let erase = stores.erase.clone();
        let http = web::Data::new(Http { sites, visitor, agent, agent_origins, archive: sql, erase, metrics });
        let app = move || {
            App::new()
                .wrap(Compress::default())
                .wrap(tracing_actix())
                .app_data(http.clone())
                .app_data(api.clone())
                .configure(routes::configure)
        };
        // Upgraded sockets leave the HTTP/1 dispatcher and its per-connection buffers (see
        // `http::transport`).
        let shutdown_timeout = settings.server.shutdown_timeout_secs;
        let (server, sockets) =
            transport::server(listener, shutdown_timeout, app).context("Failed to start the HTTP server")?;
        tracing::info!(port, "baton listening");
        let shutdown_timeout = Duration::from_secs(shutdown_timeout);
        Ok(Application { port, server, shutdown, stores, archive, attachments, sockets, shutdown_timeout })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The store this node uses (tests and tools read conversations through it).
    pub fn stores(&self) -> Stores {
        self.stores.clone()
    }

    /// The archive this node copies its conversations to (tests and tools read it).
    pub fn archive(&self) -> Arc<dyn Archive> {
        self.archive.clone()
    }

    /// Cancelling it shuts the server down gracefully (what SIGTERM does).
    /// The file store: what a privacy erase calls [`Attachments::erase_conversation`] on.
    pub fn attachments(&self) -> Attachments {
        self.attachments.clone()
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until SIGINT/SIGTERM or the shutdown token, then closes every socket with 1001
    /// and lets in-flight requests finish within the shutdown timeout.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let shutdown = self.shutdown.clone();
        let (sockets, drain_within) = (self.sockets.clone(), self.shutdown_timeout);
        tokio::spawn(async move {
            tokio::select! {
                () = wait_for_signal() => tracing::info!("signal received: shutting down"),
                () = shutdown.cancelled() => {}
            }
            shutdown.cancel();
            // Give sessions a moment to send their close frames before workers stop. Upgraded
            // sockets are not connections actix-server waits for: stop accepting, then wait
            // for them (within the shutdown timeout) as a graceful stop waits for connections.
            tokio::time::sleep(Duration::from_millis(200)).await;
            handle.pause().await;
            let _ = tokio::time::timeout(drain_within, sockets.drained()).await;
            handle.stop(true).await;
        });
        self.server.await.context("HTTP server failed")
    }
}

/// The Redis store when `store.redis_url` is set (this node then follows, through Redis, only
/// what its own sockets follow), else the in-memory store. A node whose Redis is down starts
/// anyway: `/readyz` answers 503 and the store reconnects in the background.
async fn build_store(settings: &Settings, hub: &Hub) -> anyhow::Result<Stores> {
    if settings.store.redis_url.is_some() {
        let store = RedisStore::connect(&settings.store, hub.sink()).await?;
        hub.set_watcher(store.watcher());
        return Ok(Stores::new(Arc::new(store)));
    }
    let retention = Duration::from_secs(settings.store.retention_hours * 3600);
    let store = Arc::new(MemoryStore::new(hub.sink(), settings.store.max_events_per_conversation, retention));
    let sweeper = Arc::downgrade(&store);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        while let Some(store) = {
            tick.tick().await;
            sweeper.upgrade()
        } {
            let removed = store.sweep(chrono::Utc::now());
            if removed > 0 {
                tracing::info!(removed, "expired idle conversations");
            }
        }
    });
    Ok(Stores::new(store))
}

/// The archive `archive.url` names, and this node's archiver copying the live store into it
/// until shutdown. A database that is down at start is not an error: the archiver waits.
async fn build_archive(
    settings: &Settings,
    stores: &Stores,
    shutdown: &CancellationToken,
) -> anyhow::Result<Arc<SqlArchive>> {
    use secrecy::ExposeSecret;
    let windows =
        settings.sites.iter().map(|site| (site.id.clone(), Duration::from_secs(site.reports.reopen_window_secs)));
    let sql = Arc::new(SqlArchive::connect(settings.archive.url.expose_secret()).await?.with_reopen_windows(windows));
    let archive: Arc<dyn Archive> = sql.clone();
    let archiver = Archiver {
        log: stores.log.clone(),
        feed: stores.feed.clone(),
        archive: archive.clone(),
        poll: settings.archive.poll(),
        lease: settings.archive.lease(),
        masks: ArchiveMasks::from_sites(&settings.sites),
    };
    archiver.spawn(shutdown.clone());
    crate::webhooks::Dispatcher::new(sql.clone(), &settings.webhooks)?.spawn(shutdown.clone());
    let retention = crate::archive::retention::policies(&settings.sites);
    crate::archive::retention::spawn(archive, retention, shutdown.clone());
    Ok(sql)
}

/// Applies the owner's changes the archive holds before the node serves, so a restarted
/// node keeps them; an archive that is not there yet leaves it to the changes' loop.
async fn apply_owner_changes(changes: &Changes, archive: &SqlArchive) {
    let applied = tokio::time::timeout(START_CHANGES_WAIT, async {
        archive.migrate().await?;
        changes.catch_up().await
    })
    .await;
    match applied {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, "owner changes not applied at start; applying them when the archive answers")
        }
        Err(_) => tracing::warn!("archive slow at start; owner changes applied when it answers"),
    }
}

/// Email, when `email.smtp_host` is set: the handle that queues emails, the resume links,
/// and this node's sender. The outbox lives in the archive, so its schema is brought up to
/// date first (the archiver does the same; both are idempotent).
async fn build_mail(
    settings: &Settings,
    archive: &Arc<SqlArchive>,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<(Mail, Arc<ResumeLinks>)>> {
    let Some(sender) = Sender::new(archive.clone(), &settings.email)? else { return Ok(None) };
    if let Err(error) = archive.migrate().await {
        tracing::warn!(%error, "archive not ready at start; emails wait for it");
    }
    let email = &settings.email;
    let links = Arc::new(ResumeLinks::new(email.link_secret.as_ref(), email.link_ttl_hours));
    sender.spawn(shutdown.clone());
    tracing::info!(host = email.host().unwrap_or_default(), "email on");
    Ok(Some((Mail::new(archive.clone(), links.clone(), email), links)))
}

/// The bot's answerer, the model for agent assistance and its probe (`None` when none is
/// configured).
struct Models {
    answerer: Arc<dyn Llm>,
    model: Option<Arc<dyn Llm>>,
    probe: Option<Arc<ModelProbe>>,
}

fn build_llm(settings: &Settings, stores: &Stores) -> anyhow::Result<Models> {
    if settings.llm.is_configured() {
        let base_url = settings.llm.base_url.as_deref().unwrap_or("https://api.openai.com/v1");
        tracing::info!(base_url, model = %settings.llm.model, "bot: OpenAI-compatible model");
        let openai = Arc::new(OpenAiLlm::new(&settings.llm)?);
        let probe = ModelProbe::new(openai.clone(), settings.llm.model.clone(), base_url.to_owned());
        // Every request (replies, summaries, drafts) within the sites' daily budgets.
        let model: Arc<dyn Llm> = Arc::new(Budgeted::new(openai, stores.allowances.clone()));
        Ok(Models { answerer: model.clone(), model: Some(model), probe: Some(Arc::new(probe)) })
    } else {
        tracing::info!("bot: offline knowledge-base answerer (no LLM configured)");
        Ok(Models { answerer: Arc::new(OfflineLlm), model: None, probe: None })
    }
}

fn tracing_actix() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%r %s %Dms").log_target("baton::http")
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
