//! Tests of RFC 3263 resolution against a tiny DNS server on 127.0.0.1 in the test process
//! (queries decoded and answers encoded with hickory-proto), and of the SRV ordering.

use std::net::Ipv4Addr;
use std::sync::Mutex;

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::A;
use hickory_resolver::proto::rr::{Record, RecordType};
use rand::SeedableRng;
use tokio::net::UdpSocket;

use super::*;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn a(owner: &str, ip: [u8; 4]) -> Record {
    Record::from_rdata(name(owner), 60, RData::A(A(Ipv4Addr::from(ip))))
}

fn srv(owner: &str, priority: u16, weight: u16, port: u16, target: &str) -> Record {
    Record::from_rdata(
        name(owner),
        60,
        RData::SRV(SRV::new(priority, weight, port, name(target))),
    )
}

fn naptr(owner: &str, order: u16, service: &str, replacement: &str) -> Record {
    Record::from_rdata(
        name(owner),
        60,
        RData::NAPTR(NAPTR::new(
            order,
            10,
            b"s".to_vec().into(),
            service.as_bytes().to_vec().into(),
            Vec::new().into(),
            name(replacement),
        )),
    )
}

/// An authoritative DNS server on 127.0.0.1 (UDP, a free port) answering from `records`:
/// the records of the asked name and type, NODATA for a known name without them, NXDOMAIN
/// for an unknown name. Keeps the questions asked.
struct TestDns {
    addr: SocketAddr,
    asked: Arc<Mutex<Vec<(String, RecordType)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestDns {
    async fn start(records: Vec<Record>) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0; 4096];
            // Bounded: no test asks more than a few dozen questions.
            for _ in 0..200 {
                let Ok((len, from)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                let Ok(query) = Message::from_vec(&buf[..len]) else {
                    continue;
                };
                let reply = answer(&records, &query, &log);
                let _ = socket.send_to(&reply.to_vec().unwrap(), from).await;
            }
        });
        Self { addr, asked, task }
    }

    fn resolver(&self) -> SipResolver {
        SipResolver::new(Some(self.addr))
    }

    /// The record types asked for `owner`.
    fn asked_for(&self, owner: &str) -> Vec<RecordType> {
        let owner = owner.trim_end_matches('.');
        let asked = self.asked.lock().unwrap();
        asked
            .iter()
            .filter(|(n, _)| n.trim_end_matches('.').eq_ignore_ascii_case(owner))
            .map(|&(_, t)| t)
            .collect()
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer(
    records: &[Record],
    query: &Message,
    asked: &Mutex<Vec<(String, RecordType)>>,
) -> Message {
    let mut reply = Message::new(
        query.metadata.id,
        MessageType::Response,
        query.metadata.op_code,
    );
    reply.metadata.authoritative = true;
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    for question in &query.queries {
        asked
            .lock()
            .unwrap()
            .push((question.name.to_ascii(), question.query_type));
        reply.add_query(question.clone());
        let same_name: Vec<_> = records
            .iter()
            .filter(|r| r.name.eq_ignore_root(&question.name))
            .collect();
        if same_name.is_empty() {
            reply.metadata.response_code = ResponseCode::NXDomain;
        }
        for record in same_name
            .into_iter()
            .filter(|r| r.record_type() == question.query_type)
        {
            let mut record = record.clone();
            record.name = question.name.clone();
            reply.add_answer(record);
        }
    }
    reply
}

/// `pbx.test` offers SIP over TCP only (NAPTR → `_sip._tcp`), on two servers: priority 10
/// at `b.pbx.test:5070`, priority 20 at `a.pbx.test:5080`. `dual.test` offers both
/// transports, UDP first. `plain.test` has an A record only.
fn zone() -> Vec<Record> {
    vec![
        naptr("pbx.test.", 10, "SIP+D2T", "_sip._tcp.pbx.test."),
        naptr("pbx.test.", 20, "E2U+sip", "_sip._udp.pbx.test."),
        a("pbx.test.", [127, 0, 0, 10]),
        srv("_sip._tcp.pbx.test.", 20, 0, 5080, "a.pbx.test."),
        srv("_sip._tcp.pbx.test.", 10, 0, 5070, "b.pbx.test."),
        a("a.pbx.test.", [127, 0, 0, 11]),
        a("b.pbx.test.", [127, 0, 0, 12]),
        naptr("dual.test.", 10, "SIP+D2U", "_sip._udp.dual.test."),
        naptr("dual.test.", 20, "SIP+D2T", "_sip._tcp.dual.test."),
        srv("_sip._udp.dual.test.", 10, 0, 5062, "udp.dual.test."),
        srv("_sip._tcp.dual.test.", 10, 0, 5063, "tcp.dual.test."),
        a("udp.dual.test.", [127, 0, 0, 21]),
        a("tcp.dual.test.", [127, 0, 0, 22]),
        a("plain.test.", [127, 0, 0, 30]),
        srv(
            "_sip._tcp.srv-only.test.",
            10,
            0,
            5090,
            "host.srv-only.test.",
        ),
        a("host.srv-only.test.", [127, 0, 0, 40]),
    ]
}

fn hop(addr: &str, transport: Transport) -> NextHop {
    NextHop {
        addr: addr.parse().unwrap(),
        transport,
    }
}

#[tokio::test]
async fn naptr_then_srv_by_priority_then_a_record() {
    let dns = TestDns::start(zone()).await;
    let resolver = dns.resolver();
    // UDP configured, but the domain offers TCP only: its NAPTR transport wins.
    let found = resolver
        .resolve("sip:0441234567@pbx.test", Transport::Udp)
        .await
        .unwrap();
    assert_eq!(found, hop("127.0.0.12:5070", Transport::Tcp));
    assert_eq!(dns.asked_for("pbx.test"), [RecordType::NAPTR]);
    assert_eq!(dns.asked_for("_sip._tcp.pbx.test"), [RecordType::SRV]);
    assert!(dns.asked_for("_sip._udp.pbx.test").is_empty());
    assert!(
        dns.asked_for("a.pbx.test").is_empty(),
        "the priority-20 server is not needed"
    );
}

#[tokio::test]
async fn the_configured_transport_is_preferred_among_naptr_records() {
    let dns = TestDns::start(zone()).await;
    let resolver = dns.resolver();
    let udp = resolver.resolve("sip:201@dual.test", Transport::Udp).await;
    assert_eq!(udp.unwrap(), hop("127.0.0.21:5062", Transport::Udp));
    let tcp = resolver.resolve("sip:201@dual.test", Transport::Tcp).await;
    assert_eq!(tcp.unwrap(), hop("127.0.0.22:5063", Transport::Tcp));
}

#[tokio::test]
async fn without_naptr_srv_of_each_transport_is_asked() {
    let dns = TestDns::start(zone()).await;
    let found = dns
        .resolver()
        .resolve("sip:201@srv-only.test", Transport::Udp)
        .await
        .unwrap();
    assert_eq!(found, hop("127.0.0.40:5090", Transport::Tcp));
    assert_eq!(dns.asked_for("_sip._udp.srv-only.test"), [RecordType::SRV]);
}

#[tokio::test]
async fn without_naptr_or_srv_the_a_record_on_port_5060() {
    let dns = TestDns::start(zone()).await;
    let found = dns
        .resolver()
        .resolve("sip:201@plain.test", Transport::Tcp)
        .await
        .unwrap();
    assert_eq!(found, hop("127.0.0.30:5060", Transport::Tcp));
    assert_eq!(dns.asked_for("_sip._tcp.plain.test"), [RecordType::SRV]);
    assert_eq!(dns.asked_for("_sip._udp.plain.test"), [RecordType::SRV]);
}

#[tokio::test]
async fn an_explicit_port_skips_naptr_and_srv() {
    let dns = TestDns::start(zone()).await;
    let found = dns
        .resolver()
        .resolve("sip:201@pbx.test:5099", Transport::Udp)
        .await
        .unwrap();
    assert_eq!(found, hop("127.0.0.10:5099", Transport::Udp));
    assert_eq!(dns.asked_for("pbx.test"), [RecordType::A]);
    assert!(dns.asked_for("_sip._tcp.pbx.test").is_empty());
}

#[tokio::test]
async fn ip_literals_and_the_outbound_proxy_need_no_dns() {
    let dns = TestDns::start(zone()).await;
    let resolver = dns.resolver();
    let found = resolver.resolve("sip:201@127.0.0.5", Transport::Udp).await;
    assert_eq!(found.unwrap(), hop("127.0.0.5:5060", Transport::Udp));
    let found = resolver.resolve("sip:201@[::1]:5070", Transport::Tcp).await;
    assert_eq!(found.unwrap(), hop("[::1]:5070", Transport::Tcp));
    let proxy = "127.0.0.9:5066".parse().unwrap();
    let found = resolver
        .next_hop("sip:201@pbx.test", Some(proxy), Transport::Tcp)
        .await;
    assert_eq!(found.unwrap(), hop("127.0.0.9:5066", Transport::Tcp));
    assert!(dns.asked.lock().unwrap().is_empty(), "no question asked");
}

#[tokio::test]
async fn an_unknown_host_is_named_in_the_error() {
    let dns = TestDns::start(zone()).await;
    let error = dns
        .resolver()
        .resolve("sip:201@nowhere.test", Transport::Udp)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ResolveError::NoAddress { host } if host == "nowhere.test"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "cannot resolve nowhere.test: no address found"
    );
    let error = dns
        .resolver()
        .resolve("tel:+41441234567", Transport::Udp)
        .await
        .unwrap_err();
    assert!(matches!(error, ResolveError::NotSipUri(_)), "{error:?}");
}

fn srv_rdata(priority: u16, weight: u16, target: &str) -> SRV {
    SRV::new(priority, weight, 5060, name(target))
}

#[test]
fn srv_records_are_tried_by_priority_then_by_weight() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let records = vec![
        srv_rdata(20, 0, "c.test."),
        srv_rdata(10, 1, "light.test."),
        srv_rdata(10, 99, "heavy.test."),
        srv_rdata(5, 0, "."),
    ];
    let mut heavy_first = 0;
    for _ in 0..1000 {
        let order: Vec<_> = srv_order(records.clone(), &mut rng)
            .into_iter()
            .map(|r| r.target.to_ascii())
            .collect();
        assert_eq!(order.len(), 3, "the `.` target (no service) is left out");
        assert_eq!(order[2], "c.test.", "priority 20 after priority 10");
        if order[0] == "heavy.test." {
            heavy_first += 1;
        }
    }
    assert!((950..1000).contains(&heavy_first), "{heavy_first}");
}

#[test]
fn naptr_records_we_cannot_use_are_skipped() {
    let records: Vec<NAPTR> = [
        naptr("x.test.", 5, "SIPS+D2T", "_sips._tcp.x.test."),
        naptr("x.test.", 10, "SIP+D2U", "_sip._udp.x.test."),
        naptr("x.test.", 20, "sip+d2t", "_sip._tcp.x.test"),
    ]
    .into_iter()
    .filter_map(|r| match r.data {
        RData::NAPTR(n) => Some(n),
        _ => None,
    })
    .collect();
    assert_eq!(
        naptr_services(&records, Transport::Udp),
        [
            (Transport::Udp, "_sip._udp.x.test.".to_owned()),
            (Transport::Tcp, "_sip._tcp.x.test.".to_owned())
        ]
    );
    assert_eq!(
        naptr_services(&records, Transport::Tcp)[0],
        (Transport::Tcp, "_sip._tcp.x.test.".to_owned())
    );
}
