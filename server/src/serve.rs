//! `slipway serve`: open the data dir, build the router (REST, server functions, pages, the
//! embedded site), listen, and shut down gracefully on SIGTERM or Ctrl-C.

use crate::datadir::DataDir;
use crate::{assets, auth, rest};
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use engine::{Engine, Role};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

/// Request bodies above this are refused with 413 (PRODUCT.md §8).
pub const BODY_LIMIT: usize = 10 << 20;

#[derive(Clone, axum::extract::FromRef)]
struct AppState {
    leptos_options: LeptosOptions,
    engine: Engine,
}

pub fn run(addr: &str, data_dir: &Path) -> Result<(), String> {
    init_tracing()?;
    let metrics_public = crate::metrics::public_from_env()?;
    crate::auth::set_trusted_proxies(std::env::var("SLIPWAY_TRUSTED_PROXIES").ok().as_deref())?;
    let started = Instant::now();
    let dir = DataDir::prepare(data_dir)?;
    let master_key = dir.master_key()?;
    let engine = dir.open_engine()?;
    engine.set_master_key(master_key);
    if let Some(secs) = std::env::var("SLIPWAY_CHECKPOINT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        engine.set_checkpoint_every(secs);
    }
    let limit = |name: &str, default: usize| -> Result<usize, String> {
        match std::env::var(name) {
            Err(_) => Ok(default),
            Ok(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} must be a whole number above 0, not `{v}`")),
        }
    };
    engine.set_run_limits(
        limit(
            "SLIPWAY_MAX_RUNNING",
            engine::admission::DEFAULT_MAX_RUNNING,
        )?,
        limit("SLIPWAY_MAX_QUEUED", engine::admission::DEFAULT_MAX_QUEUED)?,
    );
    let prune_every = match limit("SLIPWAY_PRUNE_SECS", 0)? {
        0 => engine::retention::DEFAULT_PRUNE_EVERY,
        secs => std::time::Duration::from_secs(secs as u64),
    };
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    engine::egress::set_env_lists(&env("SLIPWAY_HTTP_DENY"), &env("SLIPWAY_HTTP_ALLOW"))
        .map_err(|e| format!("SLIPWAY_HTTP_DENY / SLIPWAY_HTTP_ALLOW: {e}"))?;
    engine
        .apply_network_settings()
        .map_err(|e| format!("the egress rules cannot be read: {e}"))?;
    bootstrap_admin(&engine, addr)?;
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not an address such as 127.0.0.1:7400"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Expression rendering needs a deep stack; giving it to every runtime thread spares a
        // thread per render. Only the pages a thread touches are committed.
        .thread_stack_size(engine::expr::RUNTIME_STACK_BYTES)
        .on_thread_start(engine::expr::mark_thread_big_stack)
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let grace = match limit("SLIPWAY_SHUTDOWN_SECS", 0)? {
        0 => engine::shutdown::SHUTDOWN_GRACE,
        secs => std::time::Duration::from_secs(secs as u64),
    };
    let served = engine.clone();
    runtime.block_on(async move {
        let engine = served;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))?;
        match engine.resume_after_crash() {
            Ok(0) => {}
            Ok(n) => tracing::info!(runs = n, "started the runs that were queued before a restart"),
            Err(e) => tracing::error!("could not recover runs: {e}"),
        }
        tokio::spawn(engine.clone().run_scheduler());
        tokio::spawn(engine.clone().run_pruner(prune_every));
        if !assets::has_site() {
            tracing::warn!("this executable was built without the site: build it with `cargo xtask build`");
        }
        let router = router(engine.clone(), metrics_public);
        eprintln!("Slipway is listening on http://{local}");
        tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, data_dir = %dir.path.display(), "ready");
        // On SIGTERM: no new connection and no new run; requests and runs in progress get
        // `grace` to finish.
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(None::<tokio::time::Instant>);
        let stopping = {
            let engine = engine.clone();
            async move {
                shutdown_signal().await;
                engine.stop_starting_runs();
                let _ = stop_tx.send(Some(tokio::time::Instant::now() + grace));
            }
        };
        let serve = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(stopping);
        let deadline = async {
            let at = match stop_rx.wait_for(Option::is_some).await {
                Ok(at) => at.unwrap_or_else(tokio::time::Instant::now),
                Err(_) => std::future::pending().await,
            };
            tokio::time::sleep_until(at).await;
        };
        tokio::select! {
            served = serve => served.map_err(|e| format!("server error: {e}"))?,
            _ = deadline => tracing::warn!("requests still open after the grace period are closed"),
        }
        let deadline = stop_rx.borrow().unwrap_or_else(tokio::time::Instant::now);
        let left = engine.drain_runs(deadline).await;
        if left > 0 {
            tracing::warn!(runs = left, "runs still running after the grace period are interrupted");
        }
        Ok::<(), String>(())
    })?;
    // Stops every task (the runs cut by the grace period among them), then stores those runs as
    // interrupted; dropping the engine waits for the run writer's last commit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match engine.interrupt_unfinished() {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            runs = n,
            "stored the runs cut by the shutdown as interrupted"
        ),
        Err(e) => tracing::error!("could not store the interrupted runs: {e}"),
    }
    drop(engine);
    tracing::info!("stopped");
    Ok(())
}

/// Log lines to stderr, filtered by `SLIPWAY_LOG`; `SLIPWAY_LOG_FORMAT=json` writes one JSON
/// object per line (for a log shipper), `text` (the default) lines for people.
fn init_tracing() -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SLIPWAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match std::env::var("SLIPWAY_LOG_FORMAT").as_deref() {
        Err(_) | Ok("") | Ok("text") => logs.try_init(),
        Ok("json") => logs.json().try_init(),
        Ok(other) => {
            return Err(format!(
                "SLIPWAY_LOG_FORMAT must be `text` or `json`, not `{other}`"
            ));
        }
    };
    Ok(())
}

/// First start with no users: the admin from the environment, or a one-time setup link.
fn bootstrap_admin(engine: &Engine, addr: &str) -> Result<(), String> {
    if engine.user_count().map_err(|e| e.to_string())? > 0 {
        return Ok(());
    }
    let user = std::env::var("SLIPWAY_ADMIN_USER")
        .ok()
        .filter(|s| !s.is_empty());
    let password = std::env::var("SLIPWAY_ADMIN_PASSWORD")
        .ok()
        .filter(|s| !s.is_empty());
    match (user, password) {
        (Some(user), Some(password)) => {
            engine
                .create_user(&user, Role::Admin, &password, "environment")
                .map_err(|e| format!("cannot create the admin from SLIPWAY_ADMIN_USER: {e}"))?;
            tracing::info!(user, "created the first admin from the environment");
        }
        _ => {
            if let Some(token) = engine.issue_setup_token().map_err(|e| e.to_string())? {
                eprintln!(
                    "No users yet. Create the first admin at http://{addr}/setup?token={token}"
                );
            }
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

fn leptos_options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("slipway")
        .site_pkg_dir("pkg")
        .site_root("target/site")
        .build()
}

pub fn router(engine: Engine, metrics_public: bool) -> Router {
    let leptos_options = leptos_options();
    let routes = generate_route_list(App);
    let state = AppState {
        leptos_options: leptos_options.clone(),
        engine: engine.clone(),
    };
    let ctx_engine = engine.clone();
    let context = move || provide_context(ctx_engine.clone());
    let sf_context = context.clone();

    let app_routes = Router::new()
        .route(
            "/api/{*fn_name}",
            post(move |req: Request| handle_server_fns_with_context(sf_context.clone(), req)),
        )
        .leptos_routes_with_context(&state, routes, context, {
            let o = leptos_options.clone();
            move || shell(o.clone())
        })
        .fallback(fallback)
        .with_state(state);

    let router = Router::new().route("/healthz", get(|| async { "ok" }));
    // A bug stand-in for the tests of panic containment (debug builds, when asked for).
    #[cfg(debug_assertions)]
    let router = if std::env::var_os("SLIPWAY_TEST_PANICS").is_some() {
        router.route(
            "/__test/panic",
            get(|| async {
                panic!("panic probe");
                #[allow(unreachable_code)]
                ""
            }),
        )
    } else {
        router
    };
    let hooks = Router::new()
        .route(
            "/hooks/test/{automation}/{composer}",
            axum::routing::any(crate::hooks::test_hook).with_state(engine.clone()),
        )
        .route(
            "/hooks/{automation}/{composer}",
            axum::routing::any(crate::hooks::live_hook).with_state(engine.clone()),
        )
        .layer(axum::middleware::from_fn_with_state(
            engine.clone(),
            crate::metrics::time_webhook,
        ));
    router
        .merge(hooks)
        .merge(crate::metrics::routes(engine.clone(), metrics_public))
        .nest("/api/v1", rest::router().with_state(engine.clone()))
        .merge(app_routes)
        .layer(axum::middleware::from_fn_with_state(
            engine.clone(),
            auth::resolve_user,
        ))
        .layer(axum::middleware::from_fn(auth::check_origin))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn(auth::security_headers))
}

/// A panic while handling a request (a bug) answers that request with 500; the server goes on.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let why = engine::panic_message(panic.as_ref());
    tracing::error!("a request stopped on a panic: {why}");
    crate::error::ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server hit an internal error handling this request; it keeps running",
    )
    .into_response()
}

/// Embedded files, then the app's own "not found" page.
async fn fallback(State(state): State<AppState>, req: Request<Body>) -> Response {
    if let Some(file) = assets::file(req.uri().path(), req.headers()) {
        return file;
    }
    let options = state.leptos_options.clone();
    let engine = state.engine.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(engine.clone()),
        move || shell(options.clone()),
    );
    handler(req).await.into_response()
}
