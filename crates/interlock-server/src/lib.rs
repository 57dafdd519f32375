//! The Interlock server: the `/v1` API, the scheduler that fires time bombs and runs
//! executions, and the connectors that carry actions out.

pub mod api;
pub mod auth;
mod caches;
mod cluster;
pub mod connectors;
pub mod error;
pub mod events;
pub mod limits;
pub mod notify;
mod scheduler;
pub mod service;
pub mod state;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use interlock_core::Clock;
use interlock_store::Store;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use state::{AppState, Secret, ServerSettings};

/// Request bodies above this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Builds the shared state (and starts the proposal committer).
pub fn build_state(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: ServerSettings,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
) -> anyhow::Result<AppState> {
    // reqwest is built without a default TLS provider; ring avoids a C build of aws-lc.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .user_agent(concat!("interlock/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let proposal_limits =
        limits::RateLimiter::new(settings.proposals_per_second, settings.proposal_burst);
    let login_limits = limits::RateLimiter::new(
        f64::from(settings.logins_per_minute) / 60.0,
        settings.logins_per_minute,
    );
    Ok(AppState {
        proposal_limits: Arc::new(proposal_limits),
        login_limits: Arc::new(login_limits),
        committer: service::commit::Committer::start(store.clone(), settings.max_commit_batch),
        store,
        clock,
        settings: Arc::new(settings),
        events: events::EventBus::default(),
        rules: caches::RulesCache::default(),
        connectors: caches::ConnectorCache::default(),
        teams: caches::TeamCache::default(),
        key_usage: Arc::default(),
        wake: Arc::new(Notify::new()),
        http,
        metrics,
    })
}

/// The HTTP application with its limits and tracing.
pub fn app(state: AppState) -> axum::Router {
    api::router(state)
        .layer(axum::middleware::from_fn(web::security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// A server that is serving and scheduling.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
    scheduler: JoinHandle<()>,
}

/// Serves on `listener` and runs the scheduler until [`Running::shutdown`].
pub async fn start(state: AppState, listener: TcpListener) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let (shutdown, watch_rx) = watch::channel(false);
    let scheduler = scheduler::spawn(state.clone(), watch_rx.clone());
    let mut http_rx = watch_rx;
    let router = app(state.clone());
    let http = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = http_rx.wait_for(|stop| *stop).await;
        })
        .await
    });
    Ok(Running {
        addr,
        state,
        shutdown,
        http,
        scheduler,
    })
}

impl Running {
    /// Stops taking requests and jobs, lets in-flight work finish, and returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.scheduler.await;
        // Open SSE streams and long polls would hold a graceful shutdown forever.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.http).await;
    }

    /// Asks the scheduler to look for due work now (tests advance a manual clock).
    pub fn wake(&self) {
        self.state.wake.notify_one();
    }
}
