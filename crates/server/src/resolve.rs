//! RFC 3263 next-hop resolution: where (address, port, transport) a request for a SIP URI
//! is sent — the outbound proxy if one is configured, an IP literal as it stands, a host
//! with a port by A/AAAA, else NAPTR → SRV (priority, weight) → A/AAAA, falling back to
//! A/AAAA on port 5060. DNS through hickory-resolver (resolv.conf, or `trunk.dns_server`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolverConfig,
};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::rdata::{NAPTR, SRV};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use konferenz_sip::Transport;
use rand::Rng;

/// The port of a SIP URI without one, when DNS names none either.
pub const SIP_PORT: u16 = 5060;

/// Where to send a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextHop {
    pub addr: SocketAddr,
    pub transport: Transport,
}

/// Why a SIP URI's next hop cannot be found. Each names the host (or the URI).
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("{0:?} is not a SIP URI")]
    NotSipUri(String),
    #[error("cannot resolve {host}: no DNS configuration ({reason})")]
    NoDns { host: String, reason: Arc<str> },
    #[error("cannot resolve {host}: {record} lookup of {name} failed: {source}")]
    Lookup {
        host: String,
        record: RecordType,
        name: String,
        #[source]
        source: NetError,
    },
    #[error("cannot resolve {host}: no address found")]
    NoAddress { host: String },
}

/// A DNS resolver for SIP next hops; cheap to clone (shares its cache).
#[derive(Clone)]
pub struct SipResolver {
    /// None for names when the system's DNS configuration cannot be read (IP literals
    /// and the outbound proxy still work).
    dns: Result<TokioResolver, Arc<str>>,
}

impl SipResolver {
    /// Resolves through `dns_server` (UDP, TCP for long answers), else through the
    /// servers of the system's configuration (`/etc/resolv.conf`, and `/etc/hosts`).
    pub fn new(dns_server: Option<SocketAddr>) -> Self {
        let built = match dns_server {
            Some(server) => {
                let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                    .into_iter()
                    .map(|mut c| {
                        c.port = server.port();
                        c
                    })
                    .collect();
                let config = ResolverConfig::from_name_servers(vec![NameServerConfig::new(
                    server.ip(),
                    true,
                    connections,
                )]);
                Ok(TokioResolver::builder_with_config(
                    config,
                    TokioRuntimeProvider::default(),
                ))
            }
            None => TokioResolver::builder_tokio(),
        };
        let built = built.and_then(|mut builder| {
            // IPv4 first (AAAA only for a name without A records): the SIP socket
            // usually listens on an IPv4 address.
            builder.options_mut().ip_strategy = LookupIpStrategy::Ipv4thenIpv6;
            builder.build()
        });
        let dns = built.map_err(|e| {
            tracing::warn!(error = %e, "no DNS resolver; only IP addresses can be called");
            Arc::from(e.to_string())
        });
        Self { dns }
    }

    /// The next hop of a request to `uri`: `outbound_proxy` if set (by `transport`),
    /// else [`SipResolver::resolve`].
    pub async fn next_hop(
        &self,
        uri: &str,
        outbound_proxy: Option<SocketAddr>,
        transport: Transport,
    ) -> Result<NextHop, ResolveError> {
        match outbound_proxy {
            Some(addr) => Ok(NextHop { addr, transport }),
            None => self.resolve(uri, transport).await,
        }
    }

    /// RFC 3263 §4 for `uri`, preferring the transport `preferred` where DNS offers a
    /// choice (a URI without NAPTR/SRV records is reached by `preferred`).
    pub async fn resolve(&self, uri: &str, preferred: Transport) -> Result<NextHop, ResolveError> {
        let (host, port) = konferenz_sip::uri_host_port(uri)
            .ok_or_else(|| ResolveError::NotSipUri(uri.to_owned()))?;
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(NextHop {
                addr: SocketAddr::new(ip, port.unwrap_or(SIP_PORT)),
                transport: preferred,
            });
        }
        let dns = match &self.dns {
            Ok(dns) => Lookups { dns, host: &host },
            Err(reason) => {
                return Err(ResolveError::NoDns {
                    host,
                    reason: reason.clone(),
                });
            }
        };
        if let Some(port) = port {
            return dns
                .address(&host, port, preferred)
                .await?
                .ok_or_else(|| ResolveError::NoAddress { host: host.clone() });
        }
        // NAPTR names the SRV records per transport; without usable NAPTR records the
        // SRV names of the transports we speak are asked directly.
        let mut services = naptr_services(&dns.naptr().await?, preferred);
        if services.is_empty() {
            services = transports(preferred)
                .into_iter()
                .map(|t| (t, format!("_sip._{}.{host}", transport_label(t))))
                .collect();
        }
        for (transport, name) in services {
            let records = dns.srv(&name).await?;
            // Ordered before the loop: the thread's generator must not live across an await.
            let ordered = srv_order(records, &mut rand::thread_rng());
            for srv in ordered {
                let target = srv.target.to_ascii();
                if let Some(hop) = dns.address(&target, srv.port, transport).await? {
                    tracing::debug!(%host, srv = %name, %target, addr = %hop.addr, "SIP next hop by SRV");
                    return Ok(hop);
                }
            }
        }
        dns.address(&host, SIP_PORT, preferred)
            .await?
            .ok_or(ResolveError::NoAddress { host })
    }
}

/// The lookups of one resolution; errors name its host.
struct Lookups<'a> {
    dns: &'a TokioResolver,
    host: &'a str,
}

impl Lookups<'_> {
    fn failed(&self, record: RecordType, name: &str, source: NetError) -> ResolveError {
        ResolveError::Lookup {
            host: self.host.to_owned(),
            record,
            name: name.to_owned(),
            source,
        }
    }

    /// The host's NAPTR records; none when it has none.
    async fn naptr(&self) -> Result<Vec<NAPTR>, ResolveError> {
        match self.dns.lookup(self.host, RecordType::NAPTR).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::NAPTR(naptr) => Some(naptr.clone()),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(self.failed(RecordType::NAPTR, self.host, e)),
        }
    }

    /// The SRV records of `name`; none when it has none.
    async fn srv(&self, name: &str) -> Result<Vec<SRV>, ResolveError> {
        match self.dns.srv_lookup(name).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::SRV(srv) => Some(srv.clone()),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(self.failed(RecordType::SRV, name, e)),
        }
    }

    /// The first A/AAAA address of `name` with `port`; None when it has none.
    async fn address(
        &self,
        name: &str,
        port: u16,
        transport: Transport,
    ) -> Result<Option<NextHop>, ResolveError> {
        match self.dns.lookup_ip(name).await {
            Ok(ips) => Ok(ips.iter().next().map(|ip| NextHop {
                addr: SocketAddr::new(ip, port),
                transport,
            })),
            Err(e) if e.is_no_records_found() => Ok(None),
            Err(e) => Err(self.failed(RecordType::A, name, e)),
        }
    }
}

/// The transports we speak, `preferred` first.
fn transports(preferred: Transport) -> [Transport; 2] {
    match preferred {
        Transport::Udp => [Transport::Udp, Transport::Tcp],
        Transport::Tcp => [Transport::Tcp, Transport::Udp],
        Transport::Tls => [Transport::Tls, Transport::Tcp],
    }
}

fn transport_label(transport: Transport) -> &'static str {
    match transport {
        Transport::Udp => "udp",
        Transport::Tcp => "tcp",
        Transport::Tls => "tls",
    }
}

/// The SRV names of the NAPTR records we can use (flag `S`, service `SIP+D2U` or
/// `SIP+D2T`), `preferred` transport first, then by order and preference.
fn naptr_services(records: &[NAPTR], preferred: Transport) -> Vec<(Transport, String)> {
    let mut usable: Vec<_> = records
        .iter()
        .filter(|r| r.flags.eq_ignore_ascii_case(b"s"))
        .filter_map(|r| {
            let transport = if r.services.eq_ignore_ascii_case(b"SIP+D2U") {
                Transport::Udp
            } else if r.services.eq_ignore_ascii_case(b"SIP+D2T") {
                Transport::Tcp
            } else {
                return None;
            };
            Some((
                transport != preferred,
                r.order,
                r.preference,
                transport,
                &r.replacement,
            ))
        })
        .collect();
    usable.sort_by_key(|&(other, order, preference, ..)| (other, order, preference));
    usable
        .into_iter()
        .map(|(.., transport, name)| (transport, fqdn(name)))
        .collect()
}

/// A name from a record, absolute (so no search domain is tried after it).
fn fqdn(name: &Name) -> String {
    let mut name = name.clone();
    name.set_fqdn(true);
    name.to_ascii()
}

/// SRV records in the order to try them (RFC 2782): lowest priority first; within a
/// priority, drawn at random in proportion to weight (weight 0 rarely first). A target of
/// `.` (service not offered) is left out.
fn srv_order(mut records: Vec<SRV>, rng: &mut impl Rng) -> Vec<SRV> {
    records.retain(|r| !r.target.is_root());
    records.sort_by_key(|r| (r.priority, r.weight != 0));
    let mut ordered = Vec::with_capacity(records.len());
    while !records.is_empty() {
        let priority = records[0].priority;
        let end = records.partition_point(|r| r.priority == priority);
        let mut group: Vec<SRV> = records.drain(..end).collect();
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let pick = rng.gen_range(0..=total);
            let mut running = 0;
            let index = group
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(0);
            ordered.push(group.remove(index));
        }
    }
    ordered
}

#[cfg(test)]
mod tests;
