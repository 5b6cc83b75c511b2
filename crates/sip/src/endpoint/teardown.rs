//! Ending calls: BYE both ways, CANCEL (RFC 3261 §9.2), rejecting and hanging up.

use std::time::Instant;

use rand::Rng;
use sipx_sip::{Method, Request, TransactionKey};
use tracing::info;

use super::{CallError, EndReason, Endpoint, Event, Output, TimerKey, reason_phrase, srtp};
use crate::call::{CallHandle, CallState};
use crate::headers;

impl Endpoint {
    pub(super) fn on_bye(&mut self, now: Instant, key: &TransactionKey, request: &Request) {
        let Some(handle) = self.dialog_of(request) else {
            return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
        };
        self.respond(now, key, request, 200, "OK");
        if let Some(call) = self.calls.get_mut(&handle)
            && let Some(outgoing) = call.outgoing.as_mut()
            && matches!(call.state, CallState::Calling | CallState::Ringing)
        {
            // A callee that hangs up in the early dialog: our INVITE still needs its final
            // answer, so CANCEL it (at once, or after the first 1xx); its 487 is absorbed.
            // The application was told already if we hung up first.
            let told = std::mem::replace(&mut outgoing.cancel_pending, true);
            if call.state == CallState::Ringing || outgoing.provisional {
                self.cancel_outgoing(now, handle);
            }
            if !told {
                info!(call = %handle, "callee hung up before answering");
                self.output.push_back(Output::Event(Event::Ended {
                    call: handle,
                    reason: EndReason::RemoteHangup,
                }));
            }
            return;
        }
        if self
            .calls
            .get(&handle)
            .is_some_and(|c| !matches!(c.state, CallState::Ending | CallState::Cancelling))
        {
            info!(call = %handle, "caller hung up");
            self.end(now, handle, EndReason::RemoteHangup);
        }
    }

    /// RFC 3261 §9.2: CANCEL ends an INVITE we have not answered; otherwise it does nothing.
    pub(super) fn on_cancel(&mut self, now: Instant, key: &TransactionKey, request: &Request) {
        let invite_key = TransactionKey::for_cancelled_invite(request);
        let pending = invite_key
            .as_ref()
            .and_then(|k| self.invites.get(k).copied());
        let exists = invite_key
            .as_ref()
            .is_some_and(|k| self.layer.server_state(k).is_some());
        if !exists && pending.is_none() {
            return self.respond(now, key, request, 481, "Call/Transaction Does Not Exist");
        }
        self.respond(now, key, request, 200, "OK");
        let (Some(handle), Some(invite_key)) = (pending, invite_key) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.state != CallState::Offered {
            return;
        }
        let tag = call.local_tag.clone();
        if let Some((_, invite)) = call.invite.take() {
            self.invites.remove(&invite_key);
            if let Some(r) = headers::simple_response(
                &invite,
                487,
                "Request Terminated",
                Some(&tag),
                &self.config.user_agent,
            ) {
                self.send_response(now, &invite_key, r);
            }
        }
        info!(call = %handle, "caller cancelled");
        self.end(now, handle, EndReason::Cancelled);
    }

    /// Rejects an offered call with a final status (e.g. 404 unknown room, 486 full).
    pub fn reject(&mut self, now: Instant, handle: CallHandle, code: u16) -> Result<(), CallError> {
        let call = self
            .calls
            .get_mut(&handle)
            .ok_or(CallError::NoSuchCall(handle))?;
        if call.state != CallState::Offered || !(300..700).contains(&code) {
            return Err(CallError::WrongState(handle));
        }
        let tag = call.local_tag.clone();
        if let Some((key, invite)) = call.invite.take() {
            self.invites.remove(&key);
            if let Some(r) = headers::simple_response(
                &invite,
                code,
                reason_phrase(code),
                Some(&tag),
                &self.config.user_agent,
            ) {
                self.send_response(now, &key, r);
            }
        }
        self.end(now, handle, EndReason::Rejected(code));
        Ok(())
    }

    /// Ends a call from our side: rejects it if unanswered (480), sends BYE otherwise.
    pub fn hangup(&mut self, now: Instant, handle: CallHandle) -> Result<(), CallError> {
        let call = self
            .calls
            .get(&handle)
            .ok_or(CallError::NoSuchCall(handle))?;
        match call.state {
            CallState::Offered => self.reject(now, handle, 480),
            CallState::Ending | CallState::Cancelling => Err(CallError::WrongState(handle)),
            CallState::Calling | CallState::Ringing => {
                self.cancel_outgoing(now, handle);
                Ok(())
            }
            CallState::Answered | CallState::Confirmed => {
                self.send_bye(now, handle);
                self.output.push_back(Output::Event(Event::Ended {
                    call: handle,
                    reason: EndReason::LocalHangup,
                }));
                Ok(())
            }
        }
    }

    /// Hangs up every call (graceful shutdown). Returns how many were ended.
    pub fn hangup_all(&mut self, now: Instant) -> usize {
        let mut handles: Vec<CallHandle> = self
            .calls
            .iter()
            .filter(|(_, c)| !matches!(c.state, CallState::Ending | CallState::Cancelling))
            .map(|(h, _)| *h)
            .collect();
        handles.sort();
        handles
            .into_iter()
            .filter(|h| self.hangup(now, *h).is_ok())
            .count()
    }

    pub(super) fn send_bye(&mut self, now: Instant, handle: CallHandle) {
        let branch = format!("z9hG4bK{:016x}", self.rng.r#gen::<u64>());
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        call.state = CallState::Ending;
        call.pending_ack = None;
        call.local_cseq += 1;
        let (transport, dest) = call.flow;
        let via = format!(
            "SIP/2.0/{} {};branch={branch};rport",
            transport.via_name(),
            srtp::local_addr_for(&self.config, transport)
        );
        let Some(bye) = headers::dialog_request(headers::DialogRequest {
            method: Method::Bye,
            target: &call.remote_target,
            via,
            from: &call.local_party,
            to: &call.remote_party,
            call_id: &call.call_id,
            cseq: call.local_cseq,
            route_set: &call.route_set,
            user_agent: &self.config.user_agent,
        }) else {
            return self.forget(handle);
        };
        self.timers.clear(&TimerKey::Retransmit2xx(handle));
        self.timers.clear(&TimerKey::AckTimeout(handle));
        match self.layer.send_request(bye, transport.reliability()) {
            Some((key, outputs)) => {
                self.routes.insert(key.clone(), (transport, dest));
                self.byes.insert(key.clone(), handle);
                self.apply(now, &key, outputs);
            }
            None => self.forget(handle),
        }
    }
}
