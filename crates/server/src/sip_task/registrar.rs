//! The built-in registrar in the SIP task: REGISTERs are challenged, the user's stored
//! hashes looked up off the loop, the digest answer checked, and the location service
//! updated and persisted. Also our own registration at the trunk's PBX.

use std::time::{Instant, SystemTime};

use konferenz_conference::{CallerKey, RoomNumber, Throttle, ThrottleConfig};

use konferenz_sip::digest::{Answer, Check, DigestServer, Ha1};
use konferenz_sip::{RegisterAnswer, RegisterRequest, Registration};
use konferenz_store::{SipUser, Store};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::State;
use crate::config::RegistrarConfig;
use crate::location::{Location, unix};

/// What `serve` hands the SIP task for registrations.
pub struct RegistrarSetup {
    pub config: RegistrarConfig,
    pub location: Location,
    /// Our own registration at the PBX (`trunk.register`), next hop resolved.
    pub trunk_registration: Option<Registration>,
    /// Password-guessing limits (the `[throttle]` values): per address and account, and
    /// per account.
    pub throttle: ThrottleConfig,
}

/// User lookups (REGISTERs with credentials) in flight at most; the queue of their answers
/// holds as many.
pub(super) const MAX_LOOKUPS: usize = 256;

/// A user looked up for a REGISTER.
pub(super) struct UserLookup {
    request: RegisterRequest,
    answer: Answer,
    user: Result<Option<SipUser>, String>,
}

pub(super) struct Registrar {
    config: RegistrarConfig,
    digest: DigestServer,
    location: Location,
    lookups: mpsc::Sender<UserLookup>,
    /// User lookups in flight; past [`MAX_LOOKUPS`] a REGISTER gets 503.
    in_flight: usize,
    /// Failed logins: a locked address+account or account is refused without a check.
    throttle: Throttle,
}

impl Registrar {
    pub(super) fn new(setup: &RegistrarSetup, lookups: mpsc::Sender<UserLookup>) -> Self {
        let secret = format!("{:032x}", rand::random::<u128>());
        let digest = DigestServer::new(
            &setup.config.realm,
            &secret,
            Instant::now(),
            std::time::Duration::from_secs(300),
        )
        .with_algorithms(&setup.config.digest_algorithms());
        Self {
            config: setup.config.clone(),
            digest,
            location: setup.location.clone(),
            lookups,
            in_flight: 0,
            throttle: Throttle::new(setup.throttle),
        }
    }
}

/// The throttle's keys for a REGISTER: (source address + account, the account).
fn guess_keys(request: &RegisterRequest) -> (CallerKey, RoomNumber) {
    let caller = CallerKey::new(request.source.ip(), &request.user);
    let account = RoomNumber::parse(&request.user)
        .unwrap_or_else(|_| RoomNumber::parse("invalid").expect("a valid key"));
    (caller, account)
}

/// Loads the bindings kept in the database into the location service.
pub async fn load_bindings(store: &Store, location: &Location) {
    match store.live_sip_bindings(unix(SystemTime::now())).await {
        Ok(stored) => location.load(&stored),
        Err(e) => warn!(error = %e, "cannot load registrations; phones must register again"),
    }
}

impl State {
    pub(super) fn on_register(&mut self, request: RegisterRequest) {
        let now = Instant::now();
        if !self.registrar.config.enabled {
            return self
                .endpoint
                .answer_register(now, request.id, RegisterAnswer::Reject(403));
        }
        let answer = request
            .authorization
            .as_deref()
            .and_then(Answer::parse)
            .filter(|a| a.realm() == self.registrar.digest.realm());
        let Some(answer) = answer else {
            let challenges = self.registrar.digest.challenges(now, false);
            return self.endpoint.answer_register(
                now,
                request.id,
                RegisterAnswer::Challenge(challenges),
            );
        };
        if answer.username() != request.user {
            debug!(user = %request.user, "REGISTER credentials for another user");
            return self
                .endpoint
                .answer_register(now, request.id, RegisterAnswer::Reject(403));
        }
        let (caller, account) = guess_keys(&request);
        if self
            .registrar
            .throttle
            .admit(now, &caller, &account)
            .is_err()
        {
            info!(source = %request.source, "REGISTER refused: too many failed logins");
            return self
                .endpoint
                .answer_register(now, request.id, RegisterAnswer::Reject(403));
        }
        if self.registrar.in_flight >= MAX_LOOKUPS {
            debug!(source = %request.source, "REGISTER while the database is behind: 503");
            return self
                .endpoint
                .answer_register(now, request.id, RegisterAnswer::Reject(503));
        }
        self.registrar.in_flight += 1;
        let (store, lookups) = (self.store.clone(), self.registrar.lookups.clone());
        tokio::spawn(async move {
            let user = store
                .find_sip_user(&request.user)
                .await
                .map_err(|e| e.to_string());
            let _ = lookups
                .send(UserLookup {
                    request,
                    answer,
                    user,
                })
                .await;
        });
    }

    pub(super) fn on_user_lookup(&mut self, lookup: UserLookup) {
        self.registrar.in_flight = self.registrar.in_flight.saturating_sub(1);
        let now = Instant::now();
        let UserLookup {
            request,
            answer,
            user,
        } = lookup;
        let id = request.id;
        let user = match user {
            Ok(Some(user)) => user,
            Ok(None) => {
                info!(source = %request.source, "REGISTER for an unknown user refused");
                debug!(user = %request.user, "unknown registrar user");
                self.login_failed(now, &request);
                return self
                    .endpoint
                    .answer_register(now, id, RegisterAnswer::Reject(403));
            }
            Err(e) => {
                warn!(error = %e, "database error looking up a registrar user");
                return self
                    .endpoint
                    .answer_register(now, id, RegisterAnswer::Reject(500));
            }
        };
        if user.realm != self.registrar.config.realm {
            warn!(realm = %user.realm, "a user's password was set for another realm; set it again");
            return self
                .endpoint
                .answer_register(now, id, RegisterAnswer::Reject(403));
        }
        let ha1 = Ha1 {
            md5: user.ha1_md5,
            sha256: user.ha1_sha256,
        };
        match self.registrar.digest.check(now, &answer, "REGISTER", &ha1) {
            Check::Valid => self.bind(request),
            Check::Stale | Check::UnknownNonce => {
                // Old, or from before a restart: the phone retries with a fresh nonce.
                let challenges = self.registrar.digest.challenges(now, true);
                self.endpoint
                    .answer_register(now, id, RegisterAnswer::Challenge(challenges));
            }
            Check::Invalid => {
                warn!(source = %request.source, "REGISTER with a wrong password refused");
                self.login_failed(now, &request);
                self.endpoint
                    .answer_register(now, id, RegisterAnswer::Reject(403));
            }
        }
    }

    /// Counts a failed login against the address+account and the account.
    fn login_failed(&mut self, now: Instant, request: &RegisterRequest) {
        let (caller, account) = guess_keys(request);
        if self
            .registrar
            .throttle
            .record_failure(now, &caller, &account)
            .is_some()
        {
            warn!(source = %request.source, "too many failed logins: registrations locked for a while");
            debug!(user = %request.user, "locked registrar account");
        }
        while self.registrar.throttle.poll_event().is_some() {}
    }

    /// Authenticated: apply the contacts, persist, answer with the bindings.
    fn bind(&mut self, request: RegisterRequest) {
        let now = Instant::now();
        let wall = SystemTime::now();
        let config = &self.registrar.config;
        if request.wildcard && request.expires != Some(0) {
            return self
                .endpoint
                .answer_register(now, request.id, RegisterAnswer::Reject(400));
        }
        let mut changes = Vec::new();
        for contact in &request.contacts {
            match config.grant(contact.expires.or(request.expires)) {
                Ok(seconds) => changes.push((contact.uri.clone(), seconds)),
                Err(min) => {
                    return self.endpoint.answer_register(
                        now,
                        request.id,
                        RegisterAnswer::IntervalTooBrief(min),
                    );
                }
            }
        }
        let from = (request.source, request.transport);
        let bindings = if request.contacts.is_empty() && !request.wildcard {
            self.registrar.location.bindings(&request.user, wall)
        } else {
            let bindings = self.registrar.location.update(
                &request.user,
                &changes,
                request.wildcard,
                from,
                wall,
            );
            let stored: Vec<_> = bindings
                .iter()
                .map(|b| b.to_stored(&request.user))
                .collect();
            let (store, user) = (self.store.clone(), request.user.clone());
            tokio::spawn(async move {
                if let Err(e) = store.set_sip_bindings(&user, &stored).await {
                    warn!(error = %e, "cannot persist a registration");
                }
            });
            info!(bindings = bindings.len(), "phone registered");
            debug!(user = %request.user, source = %request.source, "registration");
            bindings
        };
        let list = bindings
            .iter()
            .map(|b| (b.contact.clone(), b.seconds_left(wall)))
            .collect();
        self.endpoint
            .answer_register(now, request.id, RegisterAnswer::Bindings(list));
    }
}

/// Our registration at the PBX when `trunk.register` is on: the registrar URI, the AOR
/// `sip:<username or caller_id>@<registrar host>`, the next hop (outbound proxy, else the
/// registrar's host by NAPTR/SRV/A, RFC 3263). None (with a warning) when it cannot be
/// resolved.
pub async fn trunk_registration(
    trunk: &crate::config::TrunkConfig,
    resolver: &crate::resolve::SipResolver,
) -> Option<Registration> {
    if !trunk.register {
        return None;
    }
    let registrar = trunk.registrar_uri()?;
    let (host, _) = konferenz_sip::parse_uri(&registrar)?;
    let hop = match resolver
        .next_hop(&registrar, trunk.outbound_proxy, trunk.sip_transport())
        .await
    {
        Ok(hop) => hop,
        Err(e) => {
            warn!(error = %e, "cannot resolve the trunk registrar; not registering");
            return None;
        }
    };
    let user = trunk
        .username
        .clone()
        .unwrap_or_else(|| trunk.caller_id.clone());
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    Some(Registration {
        registrar,
        aor: format!("sip:{user}@{host}"),
        next_hop: hop.addr,
        transport: hop.transport,
        credentials: trunk.username.clone().zip(trunk.password.clone()),
        expires: trunk.register_expires_secs,
    })
}
