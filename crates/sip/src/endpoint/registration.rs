//! REGISTER as a client (RFC 3261 §10.2): the server registers itself at a PBX or
//! provider, answers one digest challenge per attempt, refreshes before the granted
//! time runs out and retries with back-off after a failure. Removing the binding
//! (`Expires: 0`) is [`Endpoint::unregister`].

use super::CallError;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::Rng;
use sipx_sip::auth::{Challenge, Credentials, respond, strongest};
use sipx_sip::headers::{Contact, Expires};
use sipx_sip::{HeaderName, Method, RequestBuilder, Response, TransactionKey, TuEvent, Uri};
use tracing::{debug, info};

use super::{Endpoint, Event, Output, TimerKey, Transport, srtp};

/// What it takes to register at a PBX.
#[derive(Clone, Debug)]
pub struct Registration {
    /// The registrar's Request-URI, e.g. `sip:pbx.example`.
    pub registrar: String,
    /// Our address of record, e.g. `sip:konferenz@pbx.example`.
    pub aor: String,
    pub next_hop: SocketAddr,
    pub transport: Transport,
    pub credentials: Option<(String, String)>,
    /// The registration time we ask for, in seconds.
    pub expires: u32,
}

/// The first retry after a failure; doubled per failure up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_secs(30);
const MAX_RETRY: Duration = Duration::from_secs(300);

pub(super) struct ClientRegistration {
    config: Registration,
    registrar: Uri,
    call_id: String,
    local_tag: String,
    cseq: u32,
    expires: u32,
    credentials: Option<Credentials>,
    auth_tried: bool,
    retry: Duration,
    /// Sending `Expires: 0`: no refresh afterwards.
    removing: bool,
    key: Option<TransactionKey>,
}

impl Endpoint {
    /// Starts registering; `Event::Registered` / `Event::RegistrationFailed` report the
    /// outcome each time, refreshes and retries happen by themselves.
    pub fn register(&mut self, now: Instant, config: Registration) -> Result<u64, CallError> {
        let registrar = Uri::parse(Bytes::from(config.registrar.clone()))
            .map_err(|_| CallError::BadTarget(config.registrar.clone()))?;
        Uri::parse(Bytes::from(config.aor.clone()))
            .map_err(|_| CallError::BadTarget(config.aor.clone()))?;
        self.next_register += 1;
        let id = self.next_register;
        let registration = ClientRegistration {
            call_id: format!("{:016x}@konferenz", self.rng.r#gen::<u64>()),
            local_tag: format!("{:016x}", self.rng.r#gen::<u64>()),
            cseq: self.rng.gen_range(1..10_000),
            expires: config.expires,
            credentials: config
                .credentials
                .clone()
                .map(|(u, p)| Credentials::new(u, p)),
            auth_tried: false,
            retry: FIRST_RETRY,
            removing: false,
            key: None,
            registrar,
            config,
        };
        self.client_registrations.insert(id, registration);
        self.send_register(now, id, None);
        Ok(id)
    }

    /// Removes our binding (`Expires: 0`) and stops refreshing.
    pub fn unregister(&mut self, now: Instant, id: u64) {
        self.timers.clear(&TimerKey::Register(id));
        if let Some(r) = self.client_registrations.get_mut(&id) {
            r.removing = true;
            r.auth_tried = false;
            self.send_register(now, id, None);
        }
    }

    fn send_register(
        &mut self,
        now: Instant,
        id: u64,
        authorization: Option<(HeaderName, String)>,
    ) {
        let branch = format!("z9hG4bK{:016x}", self.rng.r#gen::<u64>());
        let local = srtp::local_addr_for(
            &self.config,
            self.client_registrations
                .get(&id)
                .map_or(Transport::Udp, |r| r.config.transport),
        );
        let user_agent = self.config.user_agent.clone();
        let Some(r) = self.client_registrations.get_mut(&id) else {
            return;
        };
        r.cseq += 1;
        let transport = r.config.transport;
        let user = crate::uri_user(&r.config.aor).unwrap_or_else(|| "konferenz".into());
        let tcp = transport.uri_param();
        let expires = if r.removing { 0 } else { r.expires };
        let b = RequestBuilder::new(Method::Register, r.registrar.clone())
            .header(
                HeaderName::Via,
                format!(
                    "SIP/2.0/{} {local};branch={branch};rport",
                    transport.via_name()
                ),
            )
            .map(|b| b.max_forwards(70))
            .and_then(|b| {
                b.header(
                    HeaderName::From,
                    format!("<{}>;tag={}", r.config.aor, r.local_tag),
                )
            })
            .and_then(|b| b.header(HeaderName::To, format!("<{}>", r.config.aor)))
            .and_then(|b| b.header(HeaderName::CallId, r.call_id.clone()))
            .and_then(|b| b.cseq(r.cseq, &Method::Register))
            .and_then(|b| b.header(HeaderName::Contact, format!("<sip:{user}@{local}{tcp}>")))
            .and_then(|b| b.header(HeaderName::Expires, expires.to_string()))
            .and_then(|b| b.header(HeaderName::UserAgent, user_agent));
        let b = match authorization {
            Some((name, value)) => b.and_then(|b| b.header(name, value)),
            None => b,
        };
        let Ok(b) = b else {
            return;
        };
        let Some((key, outputs)) = self.layer.send_request(b.build(), transport.reliability())
        else {
            return;
        };
        r.key = Some(key.clone());
        self.routes
            .insert(key.clone(), (transport, r.config.next_hop));
        self.register_clients.insert(key.clone(), id);
        self.apply(now, &key, outputs);
    }

    /// A response (or a timeout) for one of our REGISTERs.
    pub(super) fn on_register_event(&mut self, now: Instant, id: u64, event: TuEvent) {
        match event {
            TuEvent::Response(response) if response.status.is_final() => {
                self.on_register_response(now, id, &response)
            }
            TuEvent::Timeout | TuEvent::TransportError => {
                self.registration_failed(now, id, 408, "Request Timeout".into())
            }
            _ => {}
        }
    }

    fn on_register_response(&mut self, now: Instant, id: u64, response: &Response) {
        let code = response.status.code();
        let Some(r) = self.client_registrations.get_mut(&id) else {
            return;
        };
        match code {
            200..=299 => {
                r.auth_tried = false;
                r.retry = FIRST_RETRY;
                if r.removing {
                    self.client_registrations.remove(&id);
                    return;
                }
                let granted = granted_expires(response, r.expires, self.config.local_addr);
                let refresh = if granted > 120 {
                    granted - 60
                } else {
                    granted / 2
                };
                let refresh = Duration::from_secs(u64::from(refresh.max(1)));
                self.timers.set(TimerKey::Register(id), now + refresh);
                info!(
                    registration = id,
                    expires = granted,
                    "registered at the trunk"
                );
                self.output.push_back(Output::Event(Event::Registered {
                    id,
                    expires: granted,
                }));
            }
            401 | 407 if !r.auth_tried && r.credentials.is_some() => {
                let from_proxy = code == 407;
                let name = if from_proxy {
                    HeaderName::ProxyAuthenticate
                } else {
                    HeaderName::WwwAuthenticate
                };
                let challenges = response
                    .headers
                    .get_all(&name)
                    .filter_map(|h| Challenge::parse(&h.value(), from_proxy))
                    .collect();
                let (Some(challenge), Some(credentials)) =
                    (strongest(challenges), r.credentials.clone())
                else {
                    return self.registration_failed(now, id, code, "no usable challenge".into());
                };
                r.auth_tried = true;
                let uri = r.config.registrar.clone();
                let cnonce = format!("{:08x}", self.rng.r#gen::<u32>());
                let value = respond(&challenge, &credentials, "REGISTER", &uri, 1, &cnonce);
                self.send_register(now, id, Some((challenge.response_header(), value)));
            }
            423 => {
                let min = response.headers.get(&HeaderName::MinExpires).and_then(|h| {
                    std::str::from_utf8(&h.value())
                        .ok()?
                        .trim()
                        .parse::<u32>()
                        .ok()
                });
                match min {
                    Some(min) if min > r.expires => {
                        r.expires = min;
                        self.send_register(now, id, None);
                    }
                    _ => self.registration_failed(now, id, code, "Interval Too Brief".into()),
                }
            }
            _ => {
                let reason = String::from_utf8_lossy(&response.reason).into_owned();
                self.registration_failed(now, id, code, reason);
            }
        }
    }

    fn registration_failed(&mut self, now: Instant, id: u64, status: u16, reason: String) {
        let Some(r) = self.client_registrations.get_mut(&id) else {
            return;
        };
        r.auth_tried = false;
        if r.removing {
            self.client_registrations.remove(&id);
            return;
        }
        let retry_in = r.retry;
        r.retry = (r.retry * 2).min(MAX_RETRY);
        self.timers.set(TimerKey::Register(id), now + retry_in);
        debug!(
            registration = id,
            status, "registration failed; retrying later"
        );
        self.output
            .push_back(Output::Event(Event::RegistrationFailed {
                id,
                status,
                reason,
                retry_in,
            }));
    }

    /// The refresh (or retry) time has come.
    pub(super) fn refresh_registration(&mut self, now: Instant, id: u64) {
        if let Some(r) = self.client_registrations.get_mut(&id) {
            r.auth_tried = false;
            self.send_register(now, id, None);
        }
    }
}

/// The time the registrar granted: our Contact's `expires` (the registrar lists every
/// binding of the AOR), else `Expires`, else what we asked for.
fn granted_expires(response: &Response, asked: u32, local: SocketAddr) -> u32 {
    let ours = local.to_string();
    let from_contact = response
        .headers
        .typed_all::<Contact>()
        .filter_map(Result::ok)
        .filter(|c| String::from_utf8_lossy(&c.0.uri.to_bytes()).contains(&ours))
        .find_map(|c| {
            std::str::from_utf8(c.0.param("expires")?)
                .ok()?
                .trim()
                .parse()
                .ok()
        });
    let from_header = response
        .headers
        .typed::<Expires>()
        .and_then(Result::ok)
        .map(|e| e.0);
    from_contact.or(from_header).unwrap_or(asked)
}
