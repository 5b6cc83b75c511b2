//! `konferenz serve`: binds the sockets, loads the room index and the participants'
//! history, starts the SIP task, the TCP listener, the index watcher and the HTTP server,
//! and shuts them down in order on SIGTERM/Ctrl-C (every call gets a BYE, every change is
//! written).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use konferenz_conference::{Conference, ConferenceConfig, Roster, RosterConfig};
use konferenz_sip::{Endpoint, EndpointConfig, Timers};
use konferenz_store::Store;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{mpsc, watch};
use tracing::info;

use crate::api::ApiState;
use crate::bus::Bus;
use crate::config::Config;
use crate::control::Control;
use crate::room::RoomSettings;
use crate::room_index::MusicCache;
use crate::rtp_ports::PortPool;
use crate::sip_task::SipTask;

/// Receive buffer asked for the SIP UDP socket.
const SIP_RECEIVE_BUFFER: usize = 4 << 20;

/// Runs the server until SIGTERM/Ctrl-C.
pub async fn run(config: Config, store: Store) -> anyhow::Result<()> {
    let listen = config.sip.listen;
    let public_ip = config.sip.public_ip();
    let udp = UdpSocket::bind(listen)
        .await
        .map_err(|e| crate::startup::bind_error("sip.listen", "UDP", listen, &e))?;
    // A burst (hundreds of BYEs at once) must queue, not be dropped, while the SIP task
    // works; the kernel caps the size at net.core.rmem_max.
    let granted = crate::udp_batch::set_receive_buffer(&udp, SIP_RECEIVE_BUFFER);
    tracing::debug!(bytes = granted, "SIP UDP receive buffer");
    let tcp = TcpListener::bind(listen)
        .await
        .map_err(|e| crate::startup::bind_error("sip.listen", "TCP", listen, &e))?;
    let (tcp_tx, tcp_rx) = mpsc::channel(crate::tcp::EVENT_QUEUE);
    let mut limits = config.limits.clone();
    limits.tcp_connections = crate::fd_limit::tcp_budget(
        crate::fd_limit::raise(),
        config.rtp.ports.pairs(),
        limits.tcp_connections,
    );
    let limits = Arc::new(limits);
    let open = Arc::default();
    let tcp_task = tokio::spawn(crate::tcp::accept_loop(
        tcp,
        None,
        tcp_tx.clone(),
        limits.clone(),
        Arc::clone(&open),
    ));
    let tls_task = match (config.sip.tls_listen, config.sip_tls()) {
        (Some(tls_listen), Some((certificate, private_key))) => {
            let tls = crate::http::tls::tls_config(
                certificate,
                private_key,
                if config.sip.tls_certificate.is_some() {
                    ["sip.tls_certificate", "sip.tls_private_key"]
                } else {
                    ["http.tls_certificate", "http.tls_private_key"]
                },
            )?;
            let listener = TcpListener::bind(tls_listen)
                .await
                .map_err(|e| crate::startup::bind_error("sip.tls_listen", "TCP", tls_listen, &e))?;
            info!(%tls_listen, srtp = ?config.sip.srtp, "SIP over TLS listening");
            Some(tokio::spawn(crate::tcp::accept_loop(
                listener,
                Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls))),
                tcp_tx,
                limits,
                open,
            )))
        }
        _ => None,
    };

    let metrics = Arc::new(crate::metrics::Metrics::new());
    let mut roster = Roster::new(RosterConfig::default());
    let last_call = crate::participants::restore(&store, &mut roster).await;
    let (history_tx, history_writer) = crate::participants::writer(store.clone());
    let bus = Bus::new(roster, Some(history_tx), Some(metrics.events.clone()));

    // The room index: read before the first call is taken, then watched.
    let version = store.rooms_version().await.context("reading the rooms")?;
    let rooms = store.list_rooms().await.context("reading the rooms")?;
    let mut music = MusicCache::default();
    let mut first_index = music.update(&rooms).await;
    first_index.scheduled = crate::room_index::scheduled(&store).await;
    let mut conference = Conference::new(ConferenceConfig {
        ring_timeout: Duration::from_secs(config.trunk.ring_timeout_secs),
        default_language: config.prompts.default_language(),
        language_switch: config.prompts.language_switch,
        shared_numbers: config.dialin.shared(),
        throttle: config.throttle.to_config(),
        limits: config.limits.call_limits(config.rtp.ports.pairs()),
    });
    conference.set_rooms(first_index.rooms.clone());
    conference.set_scheduled(first_index.scheduled.clone());
    let now = std::time::Instant::now();
    for (room, who, left) in crate::persist::load_blocks(&store).await {
        conference.restore_block(now, room, &who, left);
    }
    let (persist, persist_writer) = crate::persist::start(store.clone());
    let (index_tx, index_rx) = mpsc::channel(4);
    let _ = index_tx.try_send(first_index);

    let mut endpoint = Endpoint::new(
        EndpointConfig {
            local_addr: SocketAddr::new(public_ip, listen.port()),
            user_agent: config.sip.user_agent.clone(),
            codecs: config.sip.codecs.iter().map(|c| c.spec()).collect(),
            timers: Timers::default(),
            tls_port: config.sip.tls_listen.map(|a| a.port()),
            srtp: config.sip.srtp.policy(),
        },
        rand::random(),
    )
    .with_first_call_id(last_call + 1);
    endpoint.set_admission(config.limits.invite_admission());
    let ports = PortPool::new(listen.ip(), config.rtp.ports.start, config.rtp.ports.end);
    info!(
        sip = %listen,
        rtp = %format!("{}-{}", config.rtp.ports.start, config.rtp.ports.end),
        http = %config.http.listen,
        metrics = %config.metrics.listen,
        "konferenz listening"
    );

    let library = Arc::new(crate::prompts::load(&config.prompts));
    let mixer_threads = match config.rtp.mixer_threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let (control, commands) = Control::channel();
    let (browsers, browser_requests) = crate::browser::BrowserControl::channel();
    let location = crate::location::Location::default();
    crate::sip_task::load_bindings(&store, &location).await;
    let resolver = crate::resolve::SipResolver::new(config.trunk.dns_server);
    let registrar = crate::sip_task::RegistrarSetup {
        config: config.registrar.clone(),
        location: location.clone(),
        trunk_registration: crate::sip_task::trunk_registration(&config.trunk, &resolver).await,
        throttle: config.throttle.to_config(),
    };
    let dial_plan = config.trunk.dial_plan().context("trunk")?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mail_wake = Arc::new(tokio::sync::Notify::new());
    let mail_task = tokio::spawn(crate::mail_worker::run(
        store.clone(),
        config.mail.clone(),
        config.limits.mails_per_hour,
        mail_wake.clone(),
        shutdown_rx.clone(),
    ));
    // HTTPS: the certificate is read before anything listens (a bad file stops the start).
    let tls = match config.http.tls() {
        Some((certificate, key)) => Some(crate::http::tls::server_config(certificate, key)?),
        None => None,
    };
    let guard = crate::http::guard::Guard::new(
        config.http.public_url.as_deref(),
        config.http.listen,
        &config.http.allowed_hosts,
        tls.is_some(),
    );
    let token_file = config.admin_token_file();
    let admin_token_hash = crate::admin_token::write(&token_file)?;
    info!(file = %token_file.display(), "local administrator token written");
    let api_state = ApiState {
        location,
        dial_plan: Arc::new(dial_plan),
        resolver,
        store: store.clone(),
        control,
        bus: bus.clone(),
        trunk: config.trunk.clone(),
        dialin: config.dialin.clone(),
        shutdown: shutdown_rx.clone(),
        persister: persist.clone(),
        logins: Arc::new(std::sync::Mutex::new(
            konferenz_conference::LoginThrottle::new(config.throttle.to_config()),
        )),
        call_me: Arc::new(std::sync::Mutex::new(crate::api::call_me_limiter())),
        invitations: Arc::new(std::sync::Mutex::new(konferenz_conference::Quota::new(
            config.limits.invitations_per_user_per_hour,
            Duration::from_secs(3600),
        ))),
        admin_token_hash: Some(admin_token_hash),
        session_secs: i64::from(config.http.session_hours) * 3600,
        public_url: config.http.public_url.clone(),
        https: tls.is_some(),
        realm: config.registrar.realm.clone(),
        default_region: config.phonebook.default_region.clone(),
        data_dir: token_file
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
        scheduler: scheduler(&config, store.clone()),
        mail_wake: mail_wake.clone(),
        browsers,
        access: crate::api::AccessWatch::default(),
    };
    // HTTP is bound before the SIP task answers anything: whoever sees SIP up can use the API.
    let http_listener = TcpListener::bind(config.http.listen)
        .await
        .map_err(|e| crate::startup::bind_error("http.listen", "HTTP", config.http.listen, &e))?;
    let metrics_listener = TcpListener::bind(config.metrics.listen)
        .await
        .map_err(|e| {
            crate::startup::bind_error("metrics.listen", "TCP", config.metrics.listen, &e)
        })?;
    let webrtc = if config.webrtc.enabled {
        let public = config.webrtc.public_address.or(config.sip.public_address);
        Some(
            crate::webrtc::WebRtc::start(config.webrtc.listen, public, shutdown_rx.clone())
                .await
                .map_err(|e| {
                    crate::startup::bind_error("webrtc.listen", "UDP", config.webrtc.listen, &e)
                })?,
        )
    } else {
        None
    };
    let index_task = tokio::spawn(crate::room_index::watch(
        store.clone(),
        music,
        version,
        index_tx,
        shutdown_rx.clone(),
    ));
    let sip = tokio::spawn(
        SipTask {
            endpoint,
            udp: Arc::new(udp),
            tcp_events: tcp_rx,
            ports,
            media_ip: public_ip,
            store: store.clone(),
            room_settings: RoomSettings {
                media_timeout: Duration::from_secs(config.sip.rtp_timeout_secs),
                jitter_min: Duration::from_millis(config.rtp.jitter_min_ms.into()),
                jitter_max: Duration::from_millis(config.rtp.jitter_max_ms.into()),
            },
            library,
            dialin: config.dialin.clone(),
            default_language: config.prompts.default_language(),
            conference,
            trunk: config.trunk.clone(),
            bus: bus.clone(),
            commands,
            index: index_rx,
            persist,
            shutdown: shutdown_rx.clone(),
            registrar,
            mixer: crate::mixer::MixerThreads::start(mixer_threads, config.rtp.realtime),
            metrics: metrics.clone(),
            overload: crate::overload::OverloadGuard::new(config.sip.overload_queue_kib, granted),
            browser_requests,
            webrtc,
        }
        .run(),
    );
    let mut http_shutdown = shutdown_rx.clone();
    let audit_pruner = tokio::spawn(crate::audit::prune_daily(
        store.clone(),
        config.log.audit_days,
        shutdown_rx.clone(),
    ));
    let callers = tokio::spawn(crate::call_at_start::run(
        api_state.clone(),
        shutdown_rx.clone(),
    ));
    let web_app = crate::http::app(api_state, guard);
    let http_stopped = async move {
        let _ = http_shutdown.changed().await;
    };
    let http = match tls.clone() {
        Some(tls) => tokio::spawn(crate::http::serve_tls(
            http_listener,
            tls,
            web_app,
            http_stopped,
        )),
        None => tokio::spawn(crate::http::serve_listener(
            http_listener,
            "HTTP",
            web_app,
            http_stopped,
        )),
    };
    if let Some(redirect) = config.http.redirect_listen {
        let listener = TcpListener::bind(redirect).await.map_err(|e| {
            crate::startup::bind_error("http.redirect_listen", "HTTP", redirect, &e)
        })?;
        let base = match &config.http.public_url {
            Some(url) => url.clone(),
            None => format!("https://{}", config.http.listen),
        };
        let mut stop = shutdown_rx.clone();
        tokio::spawn(crate::http::serve_listener(
            listener,
            "HTTP redirect",
            crate::http::guard::redirect_app(base),
            async move {
                let _ = stop.changed().await;
            },
        ));
    }
    let mut metrics_shutdown = shutdown_rx.clone();
    let metrics_server = tokio::spawn(crate::http::serve_listener(
        metrics_listener,
        "metrics",
        crate::http::metrics_routes(metrics),
        async move {
            let _ = metrics_shutdown.changed().await;
        },
    ));

    wait_for_signal().await;
    info!("shutdown requested");
    let _ = shutdown_tx.send(true);
    let _ = sip.await;
    tcp_task.abort();
    if let Some(task) = tls_task {
        task.abort();
    }
    let _ = index_task.await;
    let http_result = tokio::time::timeout(Duration::from_secs(5), http).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), metrics_server).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), mail_task).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), callers).await;
    audit_pruner.abort();
    bus.close_history();
    let _ = tokio::time::timeout(Duration::from_secs(5), history_writer).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), persist_writer).await;
    match http_result {
        Ok(Ok(result)) => result?,
        Ok(Err(join)) => return Err(join.into()),
        Err(_) => {}
    }
    info!("stopped");
    Ok(())
}

/// The scheduling rules as configured (shared with `konferenz schedule`).
pub fn scheduler(config: &Config, store: Store) -> crate::scheduling::Scheduler {
    let domain = config
        .mail
        .from
        .rsplit('@')
        .next()
        .unwrap_or("localhost")
        .trim_end_matches('>')
        .trim()
        .to_owned();
    crate::scheduling::Scheduler {
        store,
        mail: config.mail.clone(),
        schedule: config.schedule.clone(),
        dial_in_number: config
            .dialin
            .external_number
            .clone()
            .or_else(|| config.dialin.shared_numbers.first().cloned()),
        domain,
        link_base: config
            .http
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.http.listen)),
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
