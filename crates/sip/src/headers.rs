//! Reading the few header values the endpoint needs, and building our responses and
//! in-dialog requests on top of sipx-sip's builders.

use bytes::Bytes;
use sipx_sip::headers::{Contact, From, To};
use sipx_sip::{
    CSeq, CallId, HeaderName, Method, Request, RequestBuilder, Response, ResponseBuilder,
    StatusCode, Uri,
};

/// Methods we answer, for `Allow` (RFC 3261 §20.5).
pub(crate) const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, REGISTER";

/// Whether [`ALLOW`] lists `method`.
pub(crate) fn is_allowed(method: &Method) -> bool {
    matches!(
        method,
        Method::Invite
            | Method::Ack
            | Method::Bye
            | Method::Cancel
            | Method::Options
            | Method::Update
            | Method::Info
            | Method::Register
    )
}

/// What we accept as bodies.
pub(crate) const ACCEPT: &str = "application/sdp";
/// What an INFO may carry.
pub(crate) const ACCEPT_INFO: &str = "application/dtmf-relay, application/dtmf";

/// The dialog-relevant values of a request, parsed once.
#[derive(Debug, Clone)]
pub(crate) struct RequestIds {
    pub call_id: Bytes,
    pub from_tag: Bytes,
    pub to_tag: Option<Bytes>,
    pub cseq: u32,
}

impl RequestIds {
    /// Reads Call-ID, the From/To tags and the CSeq number. None when one is unusable;
    /// validation has already answered 400 for those, so this is only a second guard.
    pub(crate) fn of(request: &Request) -> Option<Self> {
        let call_id = request.headers.typed::<CallId>()?.ok()?;
        let cseq = request.headers.typed::<CSeq>()?.ok()?;
        let from = request.headers.typed::<From>()?.ok()?;
        let to = request.headers.typed::<To>()?.ok()?;
        Some(Self {
            call_id: Bytes::from(call_id.0),
            from_tag: Bytes::copy_from_slice(from.tag().unwrap_or_default()),
            to_tag: to.tag().map(Bytes::copy_from_slice),
            cseq: cseq.sequence,
        })
    }
}

/// The raw value of a header, if present.
pub(crate) fn raw(request: &Request, name: &HeaderName) -> Option<Bytes> {
    request
        .headers
        .value(name)
        .map(|v| Bytes::copy_from_slice(&v))
}

/// All raw values of a header, in order (for Record-Route → route set).
pub(crate) fn raw_all(request: &Request, name: &HeaderName) -> Vec<Bytes> {
    request
        .headers
        .get_all(name)
        .map(|h| Bytes::copy_from_slice(&h.value()))
        .collect()
}

/// The URI of the first Contact.
pub(crate) fn contact_uri(request: &Request) -> Option<Uri> {
    Some(request.headers.typed::<Contact>()?.ok()?.0.uri)
}

/// Whether the body is SDP (a missing Content-Type with a body counts as not SDP).
pub(crate) fn has_sdp(request: &Request) -> bool {
    !request.body().is_empty()
        && request
            .headers
            .typed::<sipx_sip::headers::ContentType>()
            .and_then(Result::ok)
            .is_some_and(|ct| ct.is("application", "sdp"))
}

/// Whether the request's Accept admits `application/sdp` (RFC 3261 §20.1: no Accept
/// means it does). Each media range is read by sipx-sip's Content-Type reader; an empty
/// or unreadable Accept is not held against the request.
pub(crate) fn accepts_sdp(request: &Request) -> bool {
    use sipx_sip::TypedHeader;
    use sipx_sip::headers::ContentType;
    let mut ranges = raw_all(request, &HeaderName::Accept)
        .into_iter()
        .flat_map(|value| {
            value
                .split(|&b| b == b',')
                .map(|range| ContentType::decode(range.trim_ascii()))
                .collect::<Vec<_>>()
        })
        .peekable();
    if ranges.peek().is_none() {
        return true;
    }
    let mut readable = false;
    for range in ranges {
        let Ok(range) = range else { continue };
        readable = true;
        let (media_type, subtype) = (&range.media_type[..], &range.subtype[..]);
        if matches!(
            (media_type, subtype),
            (b"application", b"sdp") | (b"application", b"*") | (b"*", b"*")
        ) {
            return true;
        }
    }
    !readable
}

/// Start of a response to `request`; the status code must be valid (our constants are).
///
/// A request missing one of the headers §8.2.6.2 copies (say, no Call-ID) still gets its
/// 400 with the headers it has, as long as a Via says where to send it.
pub(crate) fn response(request: &Request, code: u16, reason: &str) -> Option<ResponseBuilder> {
    let status = StatusCode::new(code)?;
    if let Ok(b) = ResponseBuilder::to_request(request, status, reason.to_owned()) {
        return Some(b);
    }
    request.headers.get(&HeaderName::Via)?;
    let mut b = ResponseBuilder::new(status, reason.to_owned()).ok()?;
    for name in [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        for header in request.headers.get_all(&name) {
            b = b
                .header(name.clone(), Bytes::copy_from_slice(&header.value()))
                .ok()?;
        }
    }
    Some(b)
}

/// A complete response with common headers (`Server`, `Allow` where useful) and an
/// optional To tag to add.
pub(crate) fn simple_response(
    request: &Request,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    user_agent: &str,
) -> Option<Response> {
    let mut b = response(request, code, reason)?;
    if let Some(tag) = to_tag {
        b = with_to_tag(b, request, tag)?;
    }
    b = b.header(HeaderName::Server, user_agent.to_owned()).ok()?;
    if code == 405 || code == 501 || code == 200 && request.method == Method::Options {
        b = b.header(HeaderName::Allow, ALLOW).ok()?;
    }
    if code == 415 && request.method == Method::Info {
        b = b.header(HeaderName::Accept, ACCEPT_INFO).ok()?;
    } else if code == 415 || code == 200 && request.method == Method::Options {
        b = b.header(HeaderName::Accept, ACCEPT).ok()?;
    }
    Some(b.build())
}

/// A stateless answer with `Retry-After: seconds` (RFC 3261 §20.33), e.g. 503.
pub(crate) fn retry_after_response(
    request: &Request,
    (code, reason): (u16, &str),
    seconds: u32,
    user_agent: &str,
) -> Option<Response> {
    let b = response(request, code, reason)?
        .header(HeaderName::RetryAfter, seconds.to_string())
        .ok()?
        .header(HeaderName::Server, user_agent.to_owned())
        .ok()?;
    Some(b.build())
}

/// Replaces To with the request's To plus our tag (RFC 3261 §8.2.6.2), unless it has one.
pub(crate) fn with_to_tag(
    b: ResponseBuilder,
    request: &Request,
    tag: &str,
) -> Option<ResponseBuilder> {
    let to = raw(request, &HeaderName::To)?;
    let has_tag = request.headers.typed::<To>()?.ok()?.tag().is_some();
    if has_tag {
        return Some(b);
    }
    let mut value = to.to_vec();
    value.extend_from_slice(b";tag=");
    value.extend_from_slice(tag.as_bytes());
    b.set_header(&HeaderName::To, value).ok()
}

/// What an in-dialog request we send needs (RFC 3261 §12.2.1.1).
pub(crate) struct DialogRequest<'a> {
    pub method: Method,
    pub target: &'a Uri,
    pub via: String,
    pub from: &'a [u8],
    pub to: &'a [u8],
    pub call_id: &'a [u8],
    pub cseq: u32,
    pub route_set: &'a [Bytes],
    pub user_agent: &'a str,
}

/// Builds an in-dialog request such as BYE.
pub(crate) fn dialog_request(d: DialogRequest<'_>) -> Option<Request> {
    let mut b = RequestBuilder::new(d.method.clone(), d.target.clone())
        .header(HeaderName::Via, d.via)
        .ok()?
        .max_forwards(70);
    for route in d.route_set {
        b = b.header(HeaderName::Route, route.clone()).ok()?;
    }
    b = b
        .header(HeaderName::From, Bytes::copy_from_slice(d.from))
        .ok()?
        .header(HeaderName::To, Bytes::copy_from_slice(d.to))
        .ok()?
        .header(HeaderName::CallId, Bytes::copy_from_slice(d.call_id))
        .ok()?
        .cseq(d.cseq, &d.method)
        .ok()?
        .header(HeaderName::UserAgent, d.user_agent.to_owned())
        .ok()?;
    Some(b.build())
}

/// The raw value of a response header, if present.
pub(crate) fn raw_response(response: &Response, name: &HeaderName) -> Option<Bytes> {
    response
        .headers
        .value(name)
        .map(|v| Bytes::copy_from_slice(&v))
}

/// All raw values of a response header, in order (Record-Route of a 2xx → route set).
pub(crate) fn raw_all_response(response: &Response, name: &HeaderName) -> Vec<Bytes> {
    response
        .headers
        .get_all(name)
        .map(|h| Bytes::copy_from_slice(&h.value()))
        .collect()
}
