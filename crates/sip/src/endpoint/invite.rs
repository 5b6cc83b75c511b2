//! Answering INVITEs: new calls, offer/answer, the 2xx retransmitted until the ACK
//! (RFC 3261 §13.3.1.4), re-INVITE and UPDATE.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use rand::Rng;
use sipx_sip::{HeaderName, Message, Request, TransactionKey};
use tracing::{debug, info, warn};

use super::{
    CallError, EndReason, Endpoint, Event, Output, TimerKey, Transmit, Transport, reason_phrase,
    srtp,
};
use crate::call::{Call, CallHandle, CallState, PendingAck};
use crate::headers::{self, RequestIds};
use crate::sdp::{self, LocalMedia, NegotiatedMedia, SdpError};

impl Endpoint {
    pub(super) fn on_invite(&mut self, now: Instant, key: &TransactionKey, request: Request) {
        let Some(ids) = RequestIds::of(&request) else {
            return self.respond(now, key, &request, 400, "Bad Request");
        };
        if ids.to_tag.is_some() {
            return self.on_reinvite(now, key, &request, &ids);
        }
        if let Some(seconds) = self.overloaded {
            self.stats.rejected_overload += 1;
            return self.service_unavailable(now, key, &request, seconds);
        }
        if self
            .remote_index
            .contains_key(&(ids.call_id.clone(), ids.from_tag.clone()))
        {
            return self.respond(now, key, &request, 482, "Loop Detected");
        }
        if let Some(required) = super::inspect::required_tags(&request) {
            return match required {
                Ok(tags) => self.reject_required(now, key, &request, tags.into()),
                Err(()) => self.respond(now, key, &request, 400, "Bad Request (Require)"),
            };
        }
        let Some(remote_target) = headers::contact_uri(&request) else {
            return self.respond(now, key, &request, 400, "Bad Request (Contact missing)");
        };
        let Some(room) = request
            .uri
            .decoded_user()
            .map(|u| String::from_utf8_lossy(&u).into_owned())
        else {
            return self.respond(now, key, &request, 404, "Not Found");
        };
        let media = match self.read_offer(key, &request) {
            Ok(media) => media,
            Err(code) => return self.reject_offer(now, key, &request, code),
        };
        // Our 2xx carries SDP (RFC 3261 §13.2.1); an Accept without it gets 406 (RFC 4475
        // §3.3.15).
        if !headers::accepts_sdp(&request) {
            return self.respond(now, key, &request, 406, "Not Acceptable");
        }
        let Some(&(transport, source)) = self.routes.get(key) else {
            return;
        };
        let handle = CallHandle(self.next_handle);
        self.next_handle += 1;
        let local_tag = format!("{:016x}", self.rng.r#gen::<u64>());
        let mut local_party = headers::raw(&request, &HeaderName::To)
            .unwrap_or_default()
            .to_vec();
        local_party.extend_from_slice(format!(";tag={local_tag}").as_bytes());
        let caller = request
            .headers
            .typed::<sipx_sip::headers::From>()
            .and_then(Result::ok)
            .map(|f| String::from_utf8_lossy(&f.uri.to_bytes()).into_owned())
            .unwrap_or_default();
        info!(call = %handle, %room, %source, ?transport, "incoming call");
        debug!(call = %handle, %caller, "caller");
        let call = Call {
            state: CallState::Offered,
            invite: Some((key.clone(), request.clone())),
            call_id: ids.call_id.clone(),
            remote_tag: ids.from_tag.clone(),
            local_tag: local_tag.clone(),
            local_party: Bytes::from(local_party),
            remote_party: headers::raw(&request, &HeaderName::From).unwrap_or_default(),
            remote_target,
            route_set: headers::raw_all(&request, &HeaderName::RecordRoute),
            flow: (transport, source),
            remote_cseq: ids.cseq,
            local_cseq: self.rng.gen_range(1..10_000),
            room: room.clone(),
            local_media: None,
            media: media.clone(),
            sdp_session_id: self.rng.gen_range(1..u32::MAX as u64),
            sdp_version: 1,
            pending_ack: None,
            outgoing: None,
        };
        self.calls.insert(handle, call);
        self.remote_index
            .insert((ids.call_id.clone(), ids.from_tag), handle);
        self.dialogs
            .insert((ids.call_id, Bytes::from(local_tag)), handle);
        self.invites.insert(key.clone(), handle);
        self.stats.calls_in += 1;
        self.output.push_back(Output::Event(Event::IncomingCall {
            call: handle,
            room,
            caller,
            source,
            media,
        }));
    }

    /// The offer in a request, negotiated; Ok(None) for no offer; Err(status) to refuse.
    /// The offer is judged by the SRTP policy for the transport it came on.
    pub(super) fn read_offer(
        &self,
        key: &TransactionKey,
        request: &Request,
    ) -> Result<Option<NegotiatedMedia>, u16> {
        if request.body().is_empty() {
            return Ok(None);
        }
        if !headers::has_sdp(request) {
            return Err(415);
        }
        let transport = self.routes.get(key).map_or(Transport::Udp, |r| r.0);
        match sdp::negotiate_offer(request.body(), &self.config.codecs) {
            Ok(media) => match self.settle_offer(transport, media) {
                Ok(media) => Ok(Some(media)),
                Err(reason) => {
                    debug!(?transport, reason, "offer refused by the SRTP policy");
                    Err(488)
                }
            },
            Err(SdpError::Syntax(_)) => Err(400),
            Err(SdpError::NoAudio | SdpError::NoCommonCodec) => Err(488),
        }
    }

    /// 488 says what we accept (RFC 3261 §21.4.26: Warning 305 and our capabilities as SDP),
    /// 415 names the body types we take, 400 a broken SDP.
    pub(super) fn reject_offer(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        code: u16,
    ) {
        let Some(mut b) = headers::response(request, code, reason_phrase(code)) else {
            return;
        };
        let ua = self.config.user_agent.clone();
        b = match code {
            488 => {
                let names: Vec<&str> = self.config.codecs.iter().map(|c| c.name).collect();
                let capabilities =
                    LocalMedia::plain(SocketAddr::new(self.config.local_addr.ip(), 0));
                let body = sdp::write_offer(&capabilities, &self.config.codecs, 0, 0);
                let Ok(b) = b
                    .header(
                        HeaderName::Warning,
                        format!(
                            "305 {} \"Incompatible media format; we accept {}\"",
                            self.config.local_addr.ip(),
                            names.join(", ")
                        ),
                    )
                    .and_then(|b| b.header(HeaderName::Accept, headers::ACCEPT))
                    .and_then(|b| b.header(HeaderName::ContentType, "application/sdp"))
                else {
                    return;
                };
                b.body(body)
            }
            415 => match b.header(HeaderName::Accept, headers::ACCEPT) {
                Ok(b) => b,
                Err(_) => return,
            },
            _ => b,
        };
        let Ok(b) = b.header(HeaderName::Server, ua) else {
            return;
        };
        self.send_response(now, key, b.build());
    }

    /// RFC 3261 §8.2.2.3: we support no extension that may be required.
    pub(super) fn reject_required(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        required: Bytes,
    ) {
        let Some(b) = headers::response(request, 420, "Bad Extension") else {
            return;
        };
        if let Ok(b) = b.header(HeaderName::Unsupported, required) {
            self.send_response(now, key, b.build());
        }
    }

    /// Accepts an offered call: 200 OK with our SDP answer (or our offer, for an offerless
    /// INVITE), retransmitted until the ACK arrives.
    pub fn accept(
        &mut self,
        now: Instant,
        handle: CallHandle,
        local: LocalMedia,
    ) -> Result<(), CallError> {
        let call = self
            .calls
            .get_mut(&handle)
            .ok_or(CallError::NoSuchCall(handle))?;
        if call.state != CallState::Offered {
            return Err(CallError::WrongState(handle));
        }
        let (key, request) = call.invite.take().ok_or(CallError::WrongState(handle))?;
        call.local_media = Some(local);
        call.state = CallState::Answered;
        self.invites.remove(&key);
        self.answer_invite(now, handle, &key, &request);
        Ok(())
    }

    /// Sends the 2xx for an INVITE or re-INVITE of `handle` and starts waiting for the ACK.
    pub(super) fn answer_invite(
        &mut self,
        now: Instant,
        handle: CallHandle,
        key: &TransactionKey,
        request: &Request,
    ) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let Some(local) = call.local_media.clone() else {
            return;
        };
        call.sdp_version += 1;
        let (body, answer_in_ack) = match &call.media {
            Some(media) if headers::has_sdp(request) => (
                sdp::write_answer(&local, media, call.sdp_session_id, call.sdp_version),
                false,
            ),
            _ => (
                sdp::write_offer(
                    &srtp::offered_media(&self.config, call.flow.0, &local),
                    &self.config.codecs,
                    call.sdp_session_id,
                    call.sdp_version,
                ),
                true,
            ),
        };
        let contact = Self::contact(
            srtp::local_addr_for(&self.config, call.flow.0),
            call.flow.0,
            &call.room,
        );
        let Some(response) = headers::response(request, 200, "OK")
            .and_then(|b| headers::with_to_tag(b, request, &call.local_tag))
            .and_then(|b| b.header(HeaderName::Contact, contact).ok())
            .and_then(|b| b.header(HeaderName::Allow, headers::ALLOW).ok())
            .and_then(|b| {
                b.header(HeaderName::Server, self.config.user_agent.clone())
                    .ok()
            })
            .and_then(|b| b.header(HeaderName::ContentType, "application/sdp").ok())
            .map(|b| b.body(body).build())
        else {
            return;
        };
        let bytes = Message::Response(response.clone()).to_bytes();
        call.pending_ack = Some(PendingAck {
            bytes,
            interval: self.config.timers.t1,
            answer_in_ack,
            cseq: RequestIds::of(request).map_or(0, |ids| ids.cseq),
        });
        if call.flow.0 == Transport::Udp {
            self.timers
                .set(TimerKey::Retransmit2xx(handle), now + self.config.timers.t1);
        }
        self.timers.set(
            TimerKey::AckTimeout(handle),
            now + self.config.timers.timeout(),
        );
        self.send_response(now, key, response);
    }

    pub(super) fn contact(addr: SocketAddr, transport: Transport, room: &str) -> String {
        let mut user: String = room
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_' | '.'))
            .collect();
        if user.is_empty() {
            // A call we placed has no room in its URI.
            user.push_str("konferenz");
        }
        format!("<sip:{user}@{addr}{}>", transport.uri_param())
    }

    pub(super) fn retransmit_2xx(&mut self, now: Instant, handle: CallHandle) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let Some(pending) = call.pending_ack.as_mut() else {
            return;
        };
        let (transport, dest) = call.flow;
        let bytes = pending.bytes.clone();
        pending.interval = (pending.interval * 2).min(self.config.timers.t2);
        let next = now + pending.interval;
        self.timers.set(TimerKey::Retransmit2xx(handle), next);
        self.output.push_back(Output::Transmit(Transmit {
            transport,
            dest,
            bytes,
        }));
    }

    /// §13.3.1.4: no ACK within 64·T1 → the dialog is confirmed and then torn down with BYE.
    pub(super) fn ack_timeout(&mut self, now: Instant, handle: CallHandle) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.pending_ack.take().is_none() {
            return;
        }
        warn!(call = %handle, "no ACK for our 2xx; hanging up");
        self.timers.clear(&TimerKey::Retransmit2xx(handle));
        self.send_bye(now, handle);
        self.output.push_back(Output::Event(Event::Ended {
            call: handle,
            reason: EndReason::AckTimeout,
        }));
    }

    pub(super) fn on_ack(&mut self, now: Instant, ack: &Request) {
        let Some(handle) = self.dialog_of(ack) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let cseq = RequestIds::of(ack).map_or(0, |ids| ids.cseq);
        let Some(pending) = call.pending_ack.as_ref() else {
            return;
        };
        if pending.cseq != cseq {
            return;
        }
        let pending = call.pending_ack.take().expect("checked above");
        self.timers.clear(&TimerKey::Retransmit2xx(handle));
        self.timers.clear(&TimerKey::AckTimeout(handle));
        let first_ack = call.state == CallState::Answered;
        if call.state == CallState::Answered {
            call.state = CallState::Confirmed;
        }
        if pending.answer_in_ack {
            let had_media = call.media.is_some();
            let flow = call.flow.0;
            let answer = call.local_media.clone().and_then(|local| {
                let offered = srtp::offered_media(&self.config, flow, &local);
                let media = sdp::read_answer(ack.body(), &self.config.codecs).ok()?;
                self.settle_answer(&offered, media)
            });
            let Some(call) = self.calls.get_mut(&handle) else {
                return;
            };
            match answer {
                Some(media) if headers::has_sdp(ack) => {
                    call.media = Some(media.clone());
                    self.output.push_back(Output::Event(Event::MediaChanged {
                        call: handle,
                        media,
                    }));
                }
                _ if had_media => {}
                _ => {
                    info!(call = %handle, "ACK without a usable SDP answer; hanging up");
                    self.send_bye(now, handle);
                    return self.output.push_back(Output::Event(Event::Ended {
                        call: handle,
                        reason: EndReason::BadAnswer,
                    }));
                }
            }
        }
        if first_ack {
            self.output
                .push_back(Output::Event(Event::Established { call: handle }));
        }
    }

    pub(super) fn on_reinvite(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        ids: &RequestIds,
    ) {
        let Some(handle) = self.dialog_of(request) else {
            return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
        };
        let Some(call) = self.calls.get(&handle) else {
            return;
        };
        match call.state {
            CallState::Ending => {
                return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
            }
            // §14.2: an INVITE of ours is still in progress on this dialog (a callee that
            // re-INVITEs in the early dialog): glare.
            CallState::Calling | CallState::Ringing | CallState::Cancelling => {
                return self.respond(now, key, request, 491, "Request Pending");
            }
            // §14.2: a second INVITE before our final response to the first: 500 with a
            // random Retry-After of 0–10 s.
            CallState::Offered => return self.retry_later(now, key, request),
            CallState::Answered | CallState::Confirmed => {}
        }
        if ids.cseq <= call.remote_cseq {
            return self.respond(
                now,
                key,
                request,
                500,
                "Server Internal Error (CSeq out of order)",
            );
        }
        let media = match self.read_offer(key, request) {
            Ok(media) => media,
            Err(code) => return self.reject_offer(now, key, request, code),
        };
        let call = self.calls.get_mut(&handle).expect("looked up above");
        call.remote_cseq = ids.cseq;
        if let Some(target) = headers::contact_uri(request) {
            call.remote_target = target;
        }
        // A new INVITE replaces the wait for an ACK of the previous 2xx.
        call.pending_ack = None;
        if let Some(media) = media {
            call.media = Some(media.clone());
            self.output.push_back(Output::Event(Event::MediaChanged {
                call: handle,
                media,
            }));
        }
        self.answer_invite(now, handle, key, request);
    }

    /// 503 with `Retry-After` (RFC 3261 §21.5.4): we are overloaded; try again later.
    fn service_unavailable(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        seconds: u32,
    ) {
        self.respond_retry_after(
            now,
            key,
            request,
            (503, "Service Unavailable"),
            None,
            seconds,
        );
    }

    /// 500 with `Retry-After` (RFC 3261 §14.2): the request is fine but comes too early.
    fn retry_later(&mut self, now: Instant, key: &TransactionKey, request: &Request) {
        let seconds = self.rng.gen_range(0..=10u32);
        let tag = self
            .dialog_of(request)
            .and_then(|h| self.calls.get(&h))
            .map(|c| c.local_tag.clone());
        let status = (500, "Server Internal Error");
        self.respond_retry_after(now, key, request, status, tag.as_deref(), seconds);
    }

    /// A final answer with `Retry-After: seconds` (and our To tag inside a dialog).
    fn respond_retry_after(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        (code, reason): (u16, &str),
        tag: Option<&str>,
        seconds: u32,
    ) {
        let Some(b) = headers::response(request, code, reason)
            .and_then(|b| match tag {
                Some(tag) => headers::with_to_tag(b, request, tag),
                None => Some(b),
            })
            .and_then(|b| b.header(HeaderName::RetryAfter, seconds.to_string()).ok())
            .and_then(|b| {
                b.header(HeaderName::Server, self.config.user_agent.clone())
                    .ok()
            })
        else {
            return;
        };
        self.send_response(now, key, b.build());
    }

    pub(super) fn on_update(&mut self, now: Instant, key: &TransactionKey, request: &Request) {
        let Some(handle) = self.dialog_of(request) else {
            return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
        };
        let media = match self.read_offer(key, request) {
            Ok(media) => media,
            Err(code) => return self.reject_offer(now, key, request, code),
        };
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let Some(ids) = RequestIds::of(request) else {
            return;
        };
        call.remote_cseq = call.remote_cseq.max(ids.cseq);
        let mut b = headers::response(request, 200, "OK");
        if let (Some(media), Some(local)) = (media, call.local_media.clone()) {
            call.media = Some(media.clone());
            call.sdp_version += 1;
            let body = sdp::write_answer(&local, &media, call.sdp_session_id, call.sdp_version);
            b = b
                .and_then(|b| b.header(HeaderName::ContentType, "application/sdp").ok())
                .map(|b| b.body(body));
            self.output.push_back(Output::Event(Event::MediaChanged {
                call: handle,
                media,
            }));
        }
        let contact = Self::contact(
            srtp::local_addr_for(&self.config, call.flow.0),
            call.flow.0,
            &call.room,
        );
        if let Some(r) = b
            .and_then(|b| b.header(HeaderName::Contact, contact).ok())
            .and_then(|b| {
                b.header(HeaderName::Server, self.config.user_agent.clone())
                    .ok()
            })
        {
            self.send_response(now, key, r.build());
        }
    }
}
