//! Owns the checks RFC 3261 §8.2.1–§8.2.2 has a UAS make of every request before acting on
//! it, in the RFC's order: a method it does not recognise (501) or recognises but does not
//! take (405), a Request-URI scheme it does not serve (416), and an extension the request
//! requires that it does not have (420 naming it in `Unsupported`).

use std::time::Instant;

use sipx_sip::headers::Require;
use sipx_sip::{Method, Request, TransactionKey};

use super::Endpoint;
use crate::headers;

impl Endpoint {
    /// Answers `request` and returns true when it fails one of the checks. ACK is never
    /// answered and passes; an INVITE's Require is checked with the INVITE (after §8.2.2.2's
    /// merged-request check).
    pub(super) fn refused_on_inspection(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
    ) -> bool {
        if request.method == Method::Ack {
            return false;
        }
        // §8.2.1; §21.5.2: 501 is for a method the UAS does not recognise at all.
        if !headers::is_allowed(&request.method) {
            let (code, reason) = match request.method {
                Method::Other(_) => (501, "Not Implemented"),
                _ => (405, "Method Not Allowed"),
            };
            self.respond(now, key, request, code, reason);
            return true;
        }
        // §8.2.2.1: sip and sips are the schemes this UAS serves (RFC 4475 §3.3.2, §3.3.3).
        if !request.uri.scheme().is_sip() {
            self.respond(now, key, request, 416, "Unsupported URI Scheme");
            return true;
        }
        // §8.2.2.3: Require on CANCEL (and ACK) is ignored; we support no option tags.
        if !matches!(request.method, Method::Invite | Method::Cancel)
            && let Some(required) = required_tags(request)
        {
            match required {
                Ok(tags) => self.reject_required(now, key, request, tags.into()),
                Err(()) => self.respond(now, key, request, 400, "Bad Request (Require)"),
            }
            return true;
        }
        false
    }
}

/// The option tags of the request's Require header fields, comma-separated; None without
/// Require, Err when one does not parse. This UAS supports no extensions, so every tag it
/// is required to use is one it must name in `Unsupported`.
pub(super) fn required_tags(request: &Request) -> Option<Result<String, ()>> {
    let mut tags = Vec::new();
    for require in request.headers.typed_all::<Require>() {
        let Ok(require) = require else {
            return Some(Err(()));
        };
        tags.extend(
            require
                .0
                .0
                .iter()
                .map(|tag| String::from_utf8_lossy(tag).into_owned()),
        );
    }
    (!tags.is_empty()).then(|| Ok(tags.join(", ")))
}
