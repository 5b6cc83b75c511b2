//! REGISTER as a server (RFC 3261 §10.3): the endpoint reads the request into a
//! [`RegisterRequest`] event and keeps the transaction open until the application —
//! which owns the user database, digest checks and the location table — answers with a
//! [`RegisterAnswer`].

use std::net::SocketAddr;
use std::time::Instant;

use sipx_sip::headers::{ContactValue, Expires, To};
use sipx_sip::{HeaderName, Request, TransactionKey};

use super::{Endpoint, Event, Output, Transport};
use crate::headers;

/// One Contact of a REGISTER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterContact {
    /// The contact URI as sent (without the angle brackets).
    pub uri: String,
    /// Its `expires` parameter, if any.
    pub expires: Option<u32>,
}

/// A REGISTER for the application to decide on; answer with [`Endpoint::answer_register`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterRequest {
    pub id: u64,
    /// The user part of the To URI: the address of record's user (an internal number).
    pub user: String,
    /// The Contacts to bind; empty for a query.
    pub contacts: Vec<RegisterContact>,
    /// `Contact: *` (remove every binding; only valid with `Expires: 0`).
    pub wildcard: bool,
    /// The `Expires` header, if any.
    pub expires: Option<u32>,
    /// The raw `Authorization` value, if the phone answered a challenge.
    pub authorization: Option<String>,
    pub call_id: String,
    pub cseq: u32,
    /// Where the REGISTER came from (calls to this user are sent there).
    pub source: SocketAddr,
    pub transport: Transport,
}

/// How the application answers a REGISTER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterAnswer {
    /// 401 with these `WWW-Authenticate` values.
    Challenge(Vec<String>),
    /// 200 listing the user's current bindings (contact URI, seconds left).
    Bindings(Vec<(String, u32)>),
    /// 423 Interval Too Brief with this `Min-Expires`.
    IntervalTooBrief(u32),
    /// Any other final status (403, 404, 400, 500 …).
    Reject(u16),
}

impl Endpoint {
    pub(super) fn on_register(&mut self, now: Instant, key: &TransactionKey, request: Request) {
        let Some(event) = self.read_register(key, &request) else {
            return self.respond(now, key, &request, 400, "Bad Request (REGISTER)");
        };
        self.next_register += 1;
        let id = self.next_register;
        self.registers.insert(id, (key.clone(), request));
        self.output
            .push_back(Output::Event(Event::Register(RegisterRequest {
                id,
                ..event
            })));
    }

    fn read_register(&self, key: &TransactionKey, request: &Request) -> Option<RegisterRequest> {
        let ids = headers::RequestIds::of(request)?;
        let to = request.headers.typed::<To>()?.ok()?;
        let user = String::from_utf8_lossy(&to.0.uri.decoded_user()?).into_owned();
        let mut contacts = Vec::new();
        let mut wildcard = false;
        for value in request.headers.typed_all::<ContactValue>() {
            match value.ok()? {
                ContactValue::Wildcard => wildcard = true,
                ContactValue::Address(address) => contacts.push(RegisterContact {
                    uri: String::from_utf8_lossy(&address.uri.to_bytes()).into_owned(),
                    expires: address
                        .param("expires")
                        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse().ok()),
                }),
            }
        }
        if wildcard && !contacts.is_empty() {
            return None;
        }
        let expires = match request.headers.typed::<Expires>() {
            Some(Ok(e)) => Some(e.0),
            Some(Err(_)) => return None,
            None => None,
        };
        let authorization = headers::raw(request, &HeaderName::Authorization)
            .map(|v| String::from_utf8_lossy(&v).into_owned());
        let (transport, source) = *self.routes.get(key)?;
        Some(RegisterRequest {
            id: 0,
            user,
            contacts,
            wildcard,
            expires,
            authorization,
            call_id: String::from_utf8_lossy(&ids.call_id).into_owned(),
            cseq: ids.cseq,
            source,
            transport,
        })
    }

    /// Answers a REGISTER announced by [`Event::Register`]. Unknown ids are ignored.
    pub fn answer_register(&mut self, now: Instant, id: u64, answer: RegisterAnswer) {
        let Some((key, request)) = self.registers.remove(&id) else {
            return;
        };
        let (code, reason) = match &answer {
            RegisterAnswer::Challenge(_) => (401, "Unauthorized"),
            RegisterAnswer::Bindings(_) => (200, "OK"),
            RegisterAnswer::IntervalTooBrief(_) => (423, "Interval Too Brief"),
            RegisterAnswer::Reject(code) => (*code, super::reason_phrase(*code)),
        };
        let tag = format!("{:016x}", rand::Rng::r#gen::<u64>(&mut self.rng));
        let Some(mut b) = headers::response(&request, code, reason) else {
            return;
        };
        let mut extra: Vec<(HeaderName, String)> = Vec::new();
        match answer {
            RegisterAnswer::Challenge(values) => {
                extra.extend(values.into_iter().map(|v| (HeaderName::WwwAuthenticate, v)));
            }
            RegisterAnswer::Bindings(bindings) => {
                for (uri, expires) in bindings {
                    extra.push((HeaderName::Contact, format!("<{uri}>;expires={expires}")));
                }
            }
            RegisterAnswer::IntervalTooBrief(min) => {
                extra.push((HeaderName::MinExpires, min.to_string()));
            }
            RegisterAnswer::Reject(_) => {}
        }
        extra.push((HeaderName::Server, self.config.user_agent.clone()));
        for (name, value) in extra {
            match b.header(name, value) {
                Ok(next) => b = next,
                Err(_) => return,
            }
        }
        let Some(b) = headers::with_to_tag(b, &request, &tag) else {
            return;
        };
        self.send_response(now, &key, b.build());
    }

    /// REGISTERs waiting for the application's answer (for leak checks).
    pub fn pending_registers(&self) -> usize {
        self.registers.len()
    }
}
