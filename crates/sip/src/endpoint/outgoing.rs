//! Calls we place (RFC 3261 §13.2): the INVITE with our offer, provisional answers and early
//! media, the ACK for a 2xx (§13.2.2.4, the TU's job), digest challenges answered once
//! (RFC 8760 algorithms via sipx-sip), 3xx followed once, CANCEL (§9.1) and Timer B.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use rand::Rng;
use sipx_sip::auth::{Challenge, Credentials, respond, strongest};
use sipx_sip::headers::{Contact, To};
use sipx_sip::{HeaderName, Message, Method, Request, RequestBuilder, Response, Uri};
use tracing::{debug, info};

use super::{CallError, EndReason, Endpoint, Event, Output, Transport, srtp};
use crate::call::{Call, CallHandle, CallState, Outgoing};
use crate::headers;
use crate::sdp::{self, LocalMedia};

/// What it takes to place a call.
#[derive(Clone, Debug)]
pub struct OutgoingCall {
    /// The Request-URI, e.g. `sip:+41441234567@pbx.example`.
    pub target: String,
    /// The next hop: the outbound proxy, or the target's host.
    pub next_hop: SocketAddr,
    pub transport: Transport,
    /// Our From URI, e.g. `sip:konferenz@pbx.example`.
    pub from: String,
    /// Display name in From (the conference's name).
    pub display_name: Option<String>,
    /// P-Asserted-Identity to present, if the trunk wants one.
    pub asserted_identity: Option<String>,
    /// Digest credentials for 401/407 challenges.
    pub credentials: Option<(String, String)>,
    /// Where we receive the callee's RTP.
    pub local: LocalMedia,
}

impl Endpoint {
    /// Places a call: INVITE with our offer. Progress, answer and end arrive as events.
    pub fn invite(&mut self, now: Instant, call: OutgoingCall) -> Result<CallHandle, CallError> {
        let handle = CallHandle(self.next_handle);
        let target = Uri::parse(Bytes::from(call.target.clone()))
            .map_err(|_| CallError::BadTarget(call.target.clone()))?;
        self.next_handle += 1;
        let local_tag = format!("{:016x}", self.rng.r#gen::<u64>());
        let call_id = format!("{:016x}@konferenz", self.rng.r#gen::<u64>());
        let from = match &call.display_name {
            Some(name) => format!(
                "\"{}\" <{}>;tag={local_tag}",
                name.replace('"', ""),
                call.from
            ),
            None => format!("<{}>;tag={local_tag}", call.from),
        };
        let to = format!("<{}>", call.target);
        let session_id = self.rng.gen_range(1..u32::MAX as u64);
        let record = Call {
            state: CallState::Calling,
            invite: None,
            call_id: Bytes::from(call_id),
            remote_tag: Bytes::new(),
            local_tag: local_tag.clone(),
            local_party: Bytes::from(from),
            remote_party: Bytes::from(to),
            remote_target: target.clone(),
            route_set: Vec::new(),
            flow: (call.transport, call.next_hop),
            remote_cseq: 0,
            local_cseq: self.rng.gen_range(1..10_000),
            room: String::new(),
            local_media: Some(call.local.clone()),
            media: None,
            sdp_session_id: session_id,
            sdp_version: 1,
            pending_ack: None,
            outgoing: None,
        };
        self.calls.insert(handle, record);
        self.stats.calls_out += 1;
        self.dialogs.insert(
            (self.calls[&handle].call_id.clone(), Bytes::from(local_tag)),
            handle,
        );
        let credentials = call.credentials.map(|(u, p)| Credentials::new(u, p));
        self.send_invite(now, handle, None, credentials, call.asserted_identity);
        Ok(handle)
    }

    /// Builds and sends the (next) INVITE of an outgoing call, optionally with credentials.
    fn send_invite(
        &mut self,
        now: Instant,
        handle: CallHandle,
        authorization: Option<(HeaderName, String)>,
        credentials: Option<Credentials>,
        asserted_identity: Option<String>,
    ) {
        let branch = format!("z9hG4bK{:016x}", self.rng.r#gen::<u64>());
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let (transport, dest) = call.flow;
        call.local_cseq += 1;
        let Some(local) = call.local_media.clone() else {
            return;
        };
        call.sdp_version += 1;
        let (session_id, version) = (call.sdp_session_id, call.sdp_version);
        let offer = sdp::write_offer(
            &srtp::offered_media(&self.config, transport, &local),
            &self.config.codecs,
            session_id,
            version,
        );
        let contact = format!(
            "<sip:konferenz@{}{}>",
            srtp::local_addr_for(&self.config, transport),
            transport.uri_param()
        );
        let via = format!(
            "SIP/2.0/{} {};branch={branch};rport",
            transport.via_name(),
            srtp::local_addr_for(&self.config, transport)
        );
        let mut b = RequestBuilder::new(Method::Invite, call.remote_target.clone())
            .header(HeaderName::Via, via)
            .ok()
            .map(|b| b.max_forwards(70));
        let pairs = [
            (HeaderName::From, call.local_party.clone()),
            (HeaderName::To, call.remote_party.clone()),
            (HeaderName::CallId, call.call_id.clone()),
        ];
        for (name, value) in pairs {
            b = b.and_then(|b| b.header(name, value).ok());
        }
        b = b
            .and_then(|b| b.cseq(call.local_cseq, &Method::Invite).ok())
            .and_then(|b| b.header(HeaderName::Contact, contact).ok())
            .and_then(|b| b.header(HeaderName::Allow, headers::ALLOW).ok())
            .and_then(|b| {
                b.header(HeaderName::UserAgent, self.config.user_agent.clone())
                    .ok()
            });
        if let Some(pai) = &asserted_identity {
            b = b.and_then(|b| {
                b.header(HeaderName::PAssertedIdentity, format!("<{pai}>"))
                    .ok()
            });
        }
        if let Some((name, value)) = authorization {
            b = b.and_then(|b| b.header(name, value).ok());
        }
        let Some(request) = b
            .and_then(|b| b.header(HeaderName::ContentType, "application/sdp").ok())
            .map(|b| b.body(offer).build())
        else {
            return self.end(
                now,
                handle,
                EndReason::Failed {
                    status: 0,
                    reason: "cannot build INVITE".into(),
                },
            );
        };
        let Some((key, outputs)) = self
            .layer
            .send_request(request.clone(), transport.reliability())
        else {
            return self.end(
                now,
                handle,
                EndReason::Failed {
                    status: 0,
                    reason: "cannot send INVITE".into(),
                },
            );
        };
        let previous = call.outgoing.take();
        call.outgoing = Some(Box::new(Outgoing {
            key: key.clone(),
            invite: request,
            credentials,
            auth_tried: previous.as_ref().is_some_and(|p| p.auth_tried),
            redirected: previous.as_ref().is_some_and(|p| p.redirected),
            cancel_pending: previous.is_some_and(|p| p.cancel_pending),
            provisional: false,
        }));
        self.routes.insert(key.clone(), (transport, dest));
        self.outgoing.insert(key.clone(), handle);
        self.apply(now, &key, outputs);
    }

    /// A response to one of our INVITEs.
    pub(super) fn on_invite_response(
        &mut self,
        now: Instant,
        handle: CallHandle,
        response: Response,
    ) {
        let code = response.status.code();
        if (100..200).contains(&code)
            && let Some(outgoing) = self
                .calls
                .get_mut(&handle)
                .and_then(|c| c.outgoing.as_mut())
        {
            outgoing.provisional = true;
        }
        match code {
            100 => {
                // A hang-up that waited for any provisional: CANCEL now (§9.1).
                let pending = self.calls.get(&handle).is_some_and(|c| {
                    c.state == CallState::Calling
                        && c.outgoing.as_ref().is_some_and(|o| o.cancel_pending)
                });
                if pending {
                    self.cancel_outgoing(now, handle);
                }
            }
            101..=199 => self.on_provisional(now, handle, &response),
            200..=299 => self.on_answered(now, handle, &response),
            300..=399 => self.on_redirect(now, handle, &response),
            401 | 407 => self.on_challenge(now, handle, &response),
            _ => {
                let reason = String::from_utf8_lossy(&response.reason).into_owned();
                info!(call = %handle, status = code, "call not answered");
                if self.calls.get(&handle).is_some_and(|c| {
                    c.state == CallState::Cancelling
                        || c.outgoing.as_ref().is_some_and(|o| o.cancel_pending)
                }) {
                    // Our CANCEL's 487 (or a race): the application was told at hangup.
                    self.forget(handle);
                } else {
                    self.end(
                        now,
                        handle,
                        EndReason::Failed {
                            status: code,
                            reason,
                        },
                    );
                }
            }
        }
    }

    /// The SDP answer in a response to our INVITE, as far as it fits what we offered.
    fn answer_to_our_offer(
        &self,
        handle: CallHandle,
        response: &Response,
    ) -> Option<crate::sdp::NegotiatedMedia> {
        let call = self.calls.get(&handle)?;
        let offered = srtp::offered_media(&self.config, call.flow.0, call.local_media.as_ref()?);
        let media = sdp::read_answer(response.body(), &self.config.codecs).ok()?;
        self.settle_answer(&offered, media)
    }

    fn on_provisional(&mut self, now: Instant, handle: CallHandle, response: &Response) {
        let early_media = self.answer_to_our_offer(handle, response);
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.state == CallState::Calling {
            call.state = CallState::Ringing;
        }
        let cancel_now = call.outgoing.as_ref().is_some_and(|o| o.cancel_pending);
        self.output.push_back(Output::Event(Event::Progress {
            call: handle,
            status: response.status.code(),
            early_media,
        }));
        if cancel_now {
            self.cancel_outgoing(now, handle);
        }
    }

    fn on_answered(&mut self, now: Instant, handle: CallHandle, response: &Response) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let first = matches!(
            call.state,
            CallState::Calling | CallState::Ringing | CallState::Cancelling
        );
        if let Some(to) = response.headers.typed::<To>().and_then(Result::ok) {
            call.remote_tag = to.tag().map(Bytes::copy_from_slice).unwrap_or_default();
        }
        if first {
            // Counted once per INVITE (client-side counts skip 2xx: forks repeat them).
            self.transactions.count(
                crate::stats::TransactionSide::Sent,
                b"INVITE",
                response.status.code(),
            );
            call.remote_party = headers::raw_response(response, &HeaderName::To)
                .unwrap_or_else(|| call.remote_party.clone());
            if let Some(contact) = response.headers.typed::<Contact>().and_then(Result::ok) {
                call.remote_target = contact.0.uri;
            }
            let mut routes = headers::raw_all_response(response, &HeaderName::RecordRoute);
            routes.reverse();
            call.route_set = routes;
        }
        // §13.2.2.4: every 2xx (retransmissions included) is acknowledged.
        self.send_ack(handle);
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if !first {
            return;
        }
        let cancelling = call.state == CallState::Cancelling
            || call.outgoing.as_ref().is_some_and(|o| o.cancel_pending);
        call.state = CallState::Confirmed;
        if cancelling {
            // The 200 crossed our CANCEL: the call exists, so end it properly.
            debug!(call = %handle, "answered while we cancelled; hanging up");
            self.send_bye(now, handle);
            return;
        }
        let answer = self.answer_to_our_offer(handle, response);
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        match answer {
            Some(media) => {
                call.media = Some(media.clone());
                self.output.push_back(Output::Event(Event::Answered {
                    call: handle,
                    media,
                }));
            }
            None => {
                info!(call = %handle, "answer without usable SDP; hanging up");
                self.send_bye(now, handle);
                self.output.push_back(Output::Event(Event::Ended {
                    call: handle,
                    reason: EndReason::BadAnswer,
                }));
            }
        }
    }

    /// The ACK for a 2xx: a new transaction-less request to the remote target (§13.2.2.4).
    fn send_ack(&mut self, handle: CallHandle) {
        let branch = format!("z9hG4bK{:016x}", self.rng.r#gen::<u64>());
        let Some(call) = self.calls.get(&handle) else {
            return;
        };
        let Some(outgoing) = &call.outgoing else {
            return;
        };
        let (transport, dest) = call.flow;
        let cseq = crate::headers::RequestIds::of(&outgoing.invite)
            .map_or(call.local_cseq, |ids| ids.cseq);
        let via = format!(
            "SIP/2.0/{} {};branch={branch};rport",
            transport.via_name(),
            srtp::local_addr_for(&self.config, transport)
        );
        let ack = headers::dialog_request(headers::DialogRequest {
            method: Method::Ack,
            target: &call.remote_target,
            via,
            from: &call.local_party,
            to: &call.remote_party,
            call_id: &call.call_id,
            cseq,
            route_set: &call.route_set,
            user_agent: &self.config.user_agent,
        });
        if let Some(ack) = ack {
            self.transmit(transport, dest, Message::Request(ack));
        }
    }

    fn on_redirect(&mut self, now: Instant, handle: CallHandle, response: &Response) {
        let contact = response
            .headers
            .typed::<Contact>()
            .and_then(Result::ok)
            .map(|c| c.0.uri);
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let already = call.outgoing.as_ref().is_none_or(|o| o.redirected);
        let (Some(target), false) = (contact, already) else {
            let status = response.status.code();
            return self.end(
                now,
                handle,
                EndReason::Failed {
                    status,
                    reason: "redirected".into(),
                },
            );
        };
        debug!(call = %handle, "following a redirect once");
        call.remote_target = target.clone();
        call.remote_party =
            Bytes::from(format!("<{}>", String::from_utf8_lossy(&target.to_bytes())));
        if let Some(o) = call.outgoing.as_mut() {
            o.redirected = true;
        }
        let credentials = call.outgoing.as_ref().and_then(|o| o.credentials.clone());
        self.send_invite(now, handle, None, credentials, None);
    }

    /// 401/407: answer the strongest challenge once with our credentials (RFC 8760).
    fn on_challenge(&mut self, now: Instant, handle: CallHandle, response: &Response) {
        let status = response.status.code();
        let from_proxy = status == 407;
        let name = if from_proxy {
            HeaderName::ProxyAuthenticate
        } else {
            HeaderName::WwwAuthenticate
        };
        let challenges: Vec<Challenge> = response
            .headers
            .get_all(&name)
            .filter_map(|h| Challenge::parse(&h.value(), from_proxy))
            .collect();
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let Some(outgoing) = call.outgoing.as_mut() else {
            return;
        };
        let (Some(challenge), Some(credentials), false) = (
            strongest(challenges),
            outgoing.credentials.clone(),
            outgoing.auth_tried,
        ) else {
            return self.end(
                now,
                handle,
                EndReason::Failed {
                    status,
                    reason: "authentication failed".into(),
                },
            );
        };
        outgoing.auth_tried = true;
        let uri = String::from_utf8_lossy(&call.remote_target.to_bytes()).into_owned();
        let cnonce = format!("{:08x}", self.rng.r#gen::<u32>());
        let value = respond(&challenge, &credentials, "INVITE", &uri, 1, &cnonce);
        let header = challenge.response_header();
        self.send_invite(now, handle, Some((header, value)), Some(credentials), None);
    }

    /// CANCEL an INVITE we sent (§9.1): only after a provisional answer; before that, as
    /// soon as one arrives (or Timer B ends the call).
    pub(super) fn cancel_outgoing(&mut self, now: Instant, handle: CallHandle) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let Some(outgoing) = call.outgoing.as_mut() else {
            return;
        };
        if call.state == CallState::Calling && !outgoing.provisional {
            if !std::mem::replace(&mut outgoing.cancel_pending, true) {
                self.output.push_back(Output::Event(Event::Ended {
                    call: handle,
                    reason: EndReason::LocalHangup,
                }));
            }
            return;
        }
        call.state = CallState::Cancelling;
        let (transport, dest) = call.flow;
        let told = outgoing.cancel_pending;
        let Some(cancel) = cancel_for(&outgoing.invite) else {
            return;
        };
        if let Some((key, outputs)) = self.layer.send_request(cancel, transport.reliability()) {
            self.routes.insert(key.clone(), (transport, dest));
            self.apply(now, &key, outputs);
        }
        if !told {
            self.output.push_back(Output::Event(Event::Ended {
                call: handle,
                reason: EndReason::LocalHangup,
            }));
        }
    }

    /// Our INVITE's transaction ended without a final answer (Timer B, transport error).
    pub(super) fn on_invite_failed(&mut self, now: Instant, handle: CallHandle) {
        let Some(call) = self.calls.get(&handle) else {
            return;
        };
        if matches!(call.state, CallState::Calling | CallState::Ringing) {
            let pending = call.outgoing.as_ref().is_some_and(|o| o.cancel_pending);
            if pending {
                self.forget(handle);
            } else {
                self.end(
                    now,
                    handle,
                    EndReason::Failed {
                        status: 408,
                        reason: "Request Timeout".into(),
                    },
                );
            }
        } else if call.state == CallState::Cancelling {
            self.forget(handle);
        }
    }
}

/// The CANCEL for an INVITE (§9.1): same Request-URI, Call-ID, From, To, top Via and
/// Route, CSeq number with method CANCEL.
fn cancel_for(invite: &Request) -> Option<Request> {
    let mut b = RequestBuilder::new(Method::Cancel, invite.uri.clone());
    for name in [
        HeaderName::Via,
        HeaderName::Route,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
    ] {
        // Only the top Via: it carries the branch the CANCEL must match.
        let values: Vec<Bytes> = invite
            .headers
            .get_all(&name)
            .map(|h| Bytes::copy_from_slice(&h.value()))
            .collect();
        let values = if name == HeaderName::Via {
            values.into_iter().take(1).collect()
        } else {
            values
        };
        for value in values {
            b = b.header(name.clone(), value).ok()?;
        }
    }
    let cseq = crate::headers::RequestIds::of(invite)?.cseq;
    Some(b.max_forwards(70).cseq(cseq, &Method::Cancel).ok()?.build())
}
