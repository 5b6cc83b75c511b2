//! RFC 4475 ("SIP Torture Test Messages"): every message of §3.1.1, §3.1.2, §3.2, §3.3 and
//! §3.4, byte for byte from `tests/rfc4475/` (see the README there), fed to the endpoint as a
//! phone's UDP datagram and as bytes on a TCP connection, and held to one table of what the
//! RFC says an endpoint does with it. The application around the endpoint is played the way
//! the server plays it: calls are accepted, REGISTERs without digest credentials challenged.

mod support;

use std::path::Path;

use konferenz_sip::{Event, Framer, Limits, RegisterAnswer, StreamParser, Transport};
use support::{Harness, PHONE};

/// What the RFC expects of an endpoint, and what this one must do.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Taken as a well-formed request (not refused as malformed) and acted on: handed to
    /// the application (a call, a registration) or answered by the endpoint itself
    /// (OPTIONS, a request for a dialog it does not have); the final status it gets.
    Processed(u16),
    /// Refused with this final status; nothing reaches the application.
    Answered(u16),
    /// A response: processed as one. It matches no transaction of ours, so nothing is sent
    /// and nothing reported.
    Response,
    /// Nothing sent, nothing reported, for the reason given (only where the RFC allows it).
    Dropped(&'static str),
    /// Not run over this transport, for the reason given.
    NotOver(&'static str),
}

use Expect::{Answered, Dropped, NotOver, Processed, Response};

impl Expect {
    /// The reason a message is dropped or not run, for failure messages.
    fn why(self) -> String {
        match self {
            Dropped(why) | NotOver(why) => format!(" ({why})"),
            _ => String::new(),
        }
    }
}

/// The stream path differs from the datagram path for these. (Messages whose framing
/// fails are answered 400 like a datagram where they can be, and the connection closes.)
const WAITS: Expect = Dropped(
    "the stream waits for the rest of the message; the idle timeout closes it (RFC 4475 §3.1.2.2)",
);

/// Message name, RFC 4475 section, over UDP, over TCP (None: as over UDP).
const TABLE: &[(&str, &str, Expect, Option<Expect>)] = &[
    // §3.1.1 valid messages
    // Valid, and its To carries a tag: a request inside a dialog we do not have (§12.2.2).
    ("wsinv", "3.1.1.1", Processed(481), None),
    ("intmeth", "3.1.1.2", Answered(501), None),
    ("esc01", "3.1.1.3", Processed(200), None),
    ("escnull", "3.1.1.4", Processed(401), None),
    ("esc02", "3.1.1.5", Answered(501), None),
    ("lwsdisp", "3.1.1.6", Processed(200), None),
    ("longreq", "3.1.1.7", Processed(200), None),
    (
        "dblreq",
        "3.1.1.8",
        Processed(401),
        Some(NotOver(
            "a datagram case: on a stream the trailing octets are the next message",
        )),
    ),
    ("semiuri", "3.1.1.9", Processed(200), None),
    ("transports", "3.1.1.10", Processed(200), None),
    ("mpart01", "3.1.1.11", Answered(405), None),
    ("unreason", "3.1.1.12", Response, None),
    ("noreason", "3.1.1.13", Response, None),
    // §3.1.2 invalid messages
    ("badinv01", "3.1.2.1", Answered(400), None),
    ("clerr", "3.1.2.2", Answered(400), Some(WAITS)),
    ("ncl", "3.1.2.3", Answered(400), None),
    ("scalar02", "3.1.2.4", Answered(400), None),
    ("scalarlg", "3.1.2.5", Response, None),
    ("quotbal", "3.1.2.6", Answered(400), None),
    ("ltgtruri", "3.1.2.7", Answered(400), None),
    ("lwsruri", "3.1.2.8", Answered(400), None),
    ("lwsstart", "3.1.2.9", Answered(400), None),
    ("trws", "3.1.2.10", Answered(400), None),
    ("escruri", "3.1.2.11", Answered(400), None),
    ("baddate", "3.1.2.12", Processed(200), None),
    ("regbadct", "3.1.2.13", Answered(400), None),
    ("badaspec", "3.1.2.14", Answered(400), None),
    ("baddn", "3.1.2.15", Answered(400), Some(WAITS)),
    ("badvers", "3.1.2.16", Answered(505), None),
    ("mismatch01", "3.1.2.17", Answered(400), None),
    ("mismatch02", "3.1.2.18", Answered(400), None),
    (
        "bigcode",
        "3.1.2.19",
        Dropped("a response whose status line does not parse: RFC 4475 says drop it"),
        None,
    ),
    // §3.2 transaction layer
    ("badbranch", "3.2.1", Processed(200), None),
    // §3.3 application layer
    ("insuf", "3.3.1", Answered(400), None),
    ("unkscm", "3.3.2", Answered(416), None),
    ("novelsc", "3.3.3", Answered(416), None),
    ("unksm2", "3.3.4", Answered(400), None),
    ("bext01", "3.3.5", Answered(420), None),
    ("invut", "3.3.6", Answered(415), None),
    ("regaut01", "3.3.7", Processed(401), None),
    ("multi01", "3.3.8", Answered(400), None),
    ("mcl01", "3.3.9", Answered(400), None),
    ("bcast", "3.3.10", Response, None),
    ("zeromf", "3.3.11", Processed(200), None),
    ("cparam01", "3.3.12", Processed(401), None),
    ("cparam02", "3.3.13", Processed(401), None),
    ("regescrt", "3.3.14", Processed(401), None),
    ("sdp01", "3.3.15", Answered(406), None),
    // §3.4 backward compatibility
    // Taken without branch, From tag, Content-Length and Max-Forwards (see
    // `inv2543_is_taken_once_it_names_a_contact`), but it has no Contact, which RFC 3261
    // §8.1.1.8 requires of an INVITE: no remote target for the ACK's dialog and our BYE.
    (
        "inv2543",
        "3.4.1",
        Answered(400),
        Some(NotOver(
            "no Content-Length: RFC 3261 §18.3 cannot frame it on a stream",
        )),
    ),
];

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/rfc4475")
        .join(format!("{name}.dat"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the endpoint did with one message.
#[derive(Debug, Default)]
struct Seen {
    /// Final statuses sent, in order.
    finals: Vec<u16>,
    /// Everything sent (provisional responses included).
    sent: usize,
    /// A call or a registration reached the application.
    reached_application: bool,
    /// The bytes did not parse (datagram) or could not be framed (stream).
    unparseable: bool,
    /// The endpoint refused the request as malformed (validation).
    invalid: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Over {
    Udp,
    Tcp,
}

fn feed(bytes: &[u8], over: Over) -> Seen {
    let mut h = Harness::new();
    let mut seen = Seen::default();
    match over {
        Over::Udp => {
            h.endpoint.handle_datagram(h.now, PHONE, bytes);
            seen.unparseable = h.endpoint.stats().unparseable > 0;
        }
        Over::Tcp => {
            // As the server's TCP reader does: frame, hand on what was framed, answer what
            // could not be framed if it can be answered, then close.
            let mut parser = StreamParser::new(Limits::stream());
            let framed = Framer::default().push(&mut parser, bytes);
            for message in framed.messages {
                h.endpoint
                    .handle_message(h.now, Transport::Tcp, PHONE, message);
            }
            if let Some(refused) = framed.refused {
                h.endpoint
                    .refuse_unframeable(Transport::Tcp, PHONE, &refused.head, refused.status);
            }
            if framed.failed.is_some() {
                seen.unparseable = true;
            }
        }
    }
    h.drain();
    // The application: accept every call, challenge every REGISTER without credentials
    // (what the server's registrar does: RFC 4475 §3.3.7's "registrar that does care").
    for event in h.events.clone() {
        match event {
            Event::IncomingCall { call, .. } => {
                seen.reached_application = true;
                h.accept(call);
            }
            Event::Register(r) => {
                seen.reached_application = true;
                let challenge = vec!["Digest realm=\"rfc4475\", nonce=\"n\"".to_owned()];
                h.endpoint
                    .answer_register(h.now, r.id, RegisterAnswer::Challenge(challenge));
                h.drain();
            }
            _ => {}
        }
    }
    seen.invalid = h.endpoint.stats().rejected_invalid > 0;
    seen.sent = h.sent.len();
    seen.finals = h.statuses().into_iter().filter(|s| *s >= 200).collect();
    seen
}

/// Whether `seen` is what `expect` asks for; `bytes` tells a response from a request.
fn meets(expect: Expect, seen: &Seen, bytes: &[u8]) -> bool {
    match expect {
        Processed(code) => !seen.unparseable && !seen.invalid && seen.finals == [code],
        Answered(code) => !seen.reached_application && seen.finals == [code],
        Response => {
            bytes.starts_with(b"SIP/2.0 ")
                && !seen.unparseable
                && seen.sent == 0
                && !seen.reached_application
        }
        Dropped(_) => seen.sent == 0 && !seen.reached_application,
        NotOver(_) => true,
    }
}

fn run(over: Over) {
    let mut wrong = Vec::new();
    for &(name, section, udp, tcp) in TABLE {
        let expect = match over {
            Over::Udp => udp,
            Over::Tcp => tcp.unwrap_or(udp),
        };
        if let NotOver(_) = expect {
            continue;
        }
        let bytes = fixture(name);
        let seen = feed(&bytes, over);
        if !meets(expect, &seen, &bytes) {
            wrong.push(format!(
                "{name} (§{section}) over {over:?}: expected {expect:?}, got {seen:?}{}",
                expect.why()
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}\n", wrong.join("\n"));
}

#[test]
fn every_message_over_udp_is_handled_as_rfc_4475_says() {
    run(Over::Udp);
}

#[test]
fn every_message_over_tcp_is_handled_as_rfc_4475_says() {
    run(Over::Tcp);
}

/// The table names every fixture, and every fixture is in the table (49 messages: the
/// archive's `test.dat` is referenced by no section and not kept).
#[test]
fn the_table_covers_every_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rfc4475");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".dat").map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut in_table: Vec<String> = TABLE.iter().map(|r| r.0.to_owned()).collect();
    in_table.sort();
    assert_eq!(on_disk, in_table);
    assert_eq!(in_table.len(), 49);
}

/// §3.3.12–§3.3.14 and §3.1.1.4: the registrar is handed each Contact as the RFC reads it
/// (a contact-param is not a URI parameter, a url-parameter and an escaped header stay in
/// the URI, escaped NULs stay escaped), and a registrar that binds them answers 200 listing
/// them so.
#[test]
fn registrations_bind_the_contacts_rfc_4475_names() {
    for (name, contacts) in [
        ("cparam01", &["sip:+19725552222@gw1.example.net"][..]),
        (
            "cparam02",
            &["sip:+19725552222@gw1.example.net;unknownparam"][..],
        ),
        (
            "regescrt",
            &["sip:user@example.com?Route=%3Csip:sip.example.com%3E"][..],
        ),
        (
            "escnull",
            &["sip:%00@host5.example.com", "sip:%00%00@host5.example.com"][..],
        ),
    ] {
        let mut h = Harness::new();
        h.endpoint.handle_datagram(h.now, PHONE, &fixture(name));
        h.drain();
        let Some(Event::Register(r)) = h.events.first().cloned() else {
            panic!("{name}: no REGISTER event: {:?}", h.events);
        };
        let uris: Vec<&str> = r.contacts.iter().map(|c| c.uri.as_str()).collect();
        assert_eq!(uris, contacts, "{name}");
        let bindings = contacts.iter().map(|c| ((*c).to_owned(), 3600)).collect();
        h.endpoint
            .answer_register(h.now, r.id, RegisterAnswer::Bindings(bindings));
        h.drain();
        assert_eq!(h.statuses(), vec![200], "{name}");
        let (_, ok) = h.responses().pop().expect("the 200");
        let listed: Vec<String> = ok
            .headers
            .get_all(&sipx_sip::HeaderName::Contact)
            .map(|c| String::from_utf8_lossy(&c.value()).into_owned())
            .collect();
        for contact in contacts {
            assert!(
                listed.iter().any(|l| l.contains(&format!("<{contact}>"))),
                "{name}: {contact} not in {listed:?}"
            );
        }
    }
}

/// §3.4.1: an RFC 2543 INVITE — no branch, no From tag, no Content-Length, no Max-Forwards
/// — is taken as a call once it names the Contact RFC 3261 §8.1.1.8 requires.
#[test]
fn inv2543_is_taken_once_it_names_a_contact() {
    let text = String::from_utf8(fixture("inv2543")).expect("text");
    let text = text.replacen(
        "CSeq: 56 INVITE\r\n",
        "CSeq: 56 INVITE\r\nContact: <sip:+13035551111@iftgw.example.com;user=phone>\r\n",
        1,
    );
    let mut h = Harness::new();
    h.udp(&text);
    let call = h.incoming();
    h.accept(call);
    assert_eq!(h.statuses().last(), Some(&200));
}

/// What an answer refusing a message carries: the request's own Via, From, To, Call-ID and
/// CSeq values (RFC 3261 §8.2.6.2; a missing one stays missing), and the header the status
/// calls for: Allow with 405/501 (§20.5, RFC 4475 §3.1.1.2), Accept with 415 (§8.2.3),
/// Unsupported with 420 naming the Require tags only (RFC 4475 §3.3.5).
#[test]
fn refusals_carry_what_rfc_3261_asks_for() {
    use sipx_sip::HeaderName;
    for &(name, _, udp, _) in TABLE {
        let Answered(code) = udp else { continue };
        let bytes = fixture(name);
        let mut h = Harness::new();
        h.endpoint.handle_datagram(h.now, PHONE, &bytes);
        h.drain();
        let (_, answer) = h.responses().pop().expect("an answer");
        assert_eq!(answer.status.code(), code, "{name}");
        for header in [
            HeaderName::Via,
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
        ] {
            for value in answer.headers.get_all(&header) {
                let value = value.value();
                assert!(
                    bytes.windows(value.len()).any(|w| *w == *value),
                    "{name}: {header:?} {:?} is not the request's",
                    String::from_utf8_lossy(&value)
                );
            }
        }
        assert!(answer.headers.get(&HeaderName::Via).is_some(), "{name}");
        assert!(answer.headers.get(&HeaderName::CSeq).is_some(), "{name}");
        let has = |header| answer.headers.get(&header).is_some();
        match code {
            405 | 501 => assert!(has(HeaderName::Allow), "{name}"),
            415 => assert!(has(HeaderName::Accept), "{name}"),
            420 => assert_eq!(
                &*answer
                    .headers
                    .value(&HeaderName::Unsupported)
                    .expect("Unsupported"),
                b"nothingSupportsThis, nothingSupportsThisEither",
                "{name}"
            ),
            _ => {}
        }
    }
}
