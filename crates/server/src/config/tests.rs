//! Tests of configuration loading: defaults, files, environment overrides, and one-line
//! errors naming the key.

use super::*;
use figment::Jail;

/// Runs `f` with a clean environment and a temp working directory (figment's Jail
/// also serializes tests that touch the environment).
#[allow(clippy::result_large_err, reason = "the closure type is figment's")]
fn jail(f: impl FnOnce(&mut Jail) -> Result<(), String>) {
    Jail::expect_with(|jail| {
        jail.clear_env();
        f(jail).map_err(figment::Error::from)
    });
}

fn load_file(jail: &mut Jail, toml: &str) -> Result<Config, ConfigError> {
    jail.create_file("konferenz.toml", toml).unwrap();
    Config::load_valid(Some(Path::new("konferenz.toml")))
}

fn error_line(result: Result<Config, ConfigError>) -> String {
    result.expect_err("config should be refused").to_string()
}

#[test]
fn defaults_without_file_or_environment() {
    jail(|_| {
        let config = Config::load_valid(None).unwrap();
        assert_eq!(config.sip.listen, "127.0.0.1:5060".parse().unwrap());
        assert_eq!(config.sip.public_address, None);
        assert_eq!(config.sip.public_ip(), IpAddr::from([127, 0, 0, 1]));
        assert_eq!(
            config.sip.user_agent,
            format!("konferenz/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(config.sip.rtp_timeout_secs, 30);
        assert_eq!(
            config.rtp.ports,
            PortRange {
                start: 20000,
                end: 20999
            }
        );
        assert_eq!(
            (config.rtp.ports.start, config.rtp.ports.end),
            (20000, 20999)
        );
        assert_eq!(
            (config.rtp.jitter_min_ms, config.rtp.jitter_max_ms),
            (20, 200)
        );
        assert_eq!(config.http.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.database.url, "sqlite://konferenz-data/konferenz.db");
        assert_eq!(config.log.level, "info");
        assert_eq!(config.trunk.dns_server, None);
        Ok(())
    });
}

#[test]
fn trunk_dns_server_is_an_address() {
    jail(|jail| {
        let config = load_file(jail, "[trunk]\ndns_server = \"127.0.0.1:5353\"\n").unwrap();
        assert_eq!(
            config.trunk.dns_server,
            Some("127.0.0.1:5353".parse().unwrap())
        );
        let line = error_line(load_file(jail, "[trunk]\ndns_server = \"ns.example\"\n"));
        assert!(
            line.starts_with("trunk.dns_server: invalid socket address syntax"),
            "{line}"
        );
        jail.set_env("KONFERENZ_TRUNK__DNS_SERVER", "[::1]:53");
        let config = Config::load_valid(None).unwrap();
        assert_eq!(config.trunk.dns_server, Some("[::1]:53".parse().unwrap()));
        Ok(())
    });
}

#[test]
fn file_overrides_defaults_and_keeps_the_rest() {
    jail(|jail| {
        let config = load_file(
            jail,
            r#"
            [sip]
            listen = "0.0.0.0:5070"
            public_address = "192.0.2.10"
            [rtp]
            ports = "30000-30099"
            [database]
            url = "sqlite::memory:"
            "#,
        )
        .unwrap();
        assert_eq!(config.sip.listen, "0.0.0.0:5070".parse().unwrap());
        assert_eq!(config.sip.public_ip(), IpAddr::from([192, 0, 2, 10]));
        assert_eq!(config.rtp.ports.end - config.rtp.ports.start + 1, 100);
        assert_eq!(config.database.url, "sqlite::memory:");
        assert_eq!(config.sip.rtp_timeout_secs, 30);
        assert_eq!(config.log.level, "info");
        Ok(())
    });
}

#[test]
fn environment_overrides_file() {
    jail(|jail| {
        jail.set_env("KONFERENZ_SIP__LISTEN", "127.0.0.1:5070");
        jail.set_env("KONFERENZ_SIP__RTP_TIMEOUT_SECS", "0");
        jail.set_env("KONFERENZ_RTP__PORTS", "40000-40009");
        jail.set_env("KONFERENZ_CONFIG", "ignored-here.toml");
        let config = load_file(jail, "[sip]\nlisten = \"127.0.0.1:6000\"\n").unwrap();
        assert_eq!(config.sip.listen, "127.0.0.1:5070".parse().unwrap());
        assert_eq!(config.sip.rtp_timeout_secs, 0);
        assert_eq!(
            config.rtp.ports,
            PortRange {
                start: 40000,
                end: 40009
            }
        );
        Ok(())
    });
}

#[test]
fn config_round_trips_through_toml() {
    jail(|jail| {
        let shown = Config::default().to_toml();
        assert!(shown.contains("ports = \"20000-20999\""), "{shown}");
        let reloaded = load_file(jail, &shown).unwrap();
        assert_eq!(reloaded.to_toml(), shown);
        let secret = load_file(
            jail,
            "[trunk]\nuri = \"sip:{number}@pbx\"\nusername = \"k\"\npassword = \"hunter22\"\n",
        )
        .unwrap()
        .to_toml();
        assert!(
            !secret.contains("hunter22") && secret.contains("(set)"),
            "{secret}"
        );
        let mail = load_file(
            jail,
            "[mail]\nsmtp_url = \"smtp://mailer:urlpass9@mail.example.org:587\"\n\
             username = \"mailer\"\npassword = \"mailpass7\"\n",
        )
        .unwrap()
        .to_toml();
        assert!(
            !mail.contains("urlpass9") && !mail.contains("mailpass7"),
            "{mail}"
        );
        assert!(
            mail.contains("smtp://mailer:(set)@mail.example.org:587"),
            "{mail}"
        );
        Ok(())
    });
}

#[test]
fn bad_port_ranges_name_the_key() {
    jail(|jail| {
        let cases = [
            (
                "20000-1",
                r#"rtp.ports: "20000-1" is not a port range LOW-HIGH"#,
            ),
            (
                "ports",
                r#"rtp.ports: "ports" is not a port range LOW-HIGH"#,
            ),
            (
                "20001-20999",
                r#"rtp.ports: "20001-20999": the first port must be even"#,
            ),
            (
                "1000-2000",
                r#"rtp.ports: "1000-2000": ports must be 1024 or above"#,
            ),
        ];
        for (value, expected) in cases {
            let line = error_line(load_file(jail, &format!("[rtp]\nports = \"{value}\"\n")));
            assert!(line.starts_with(expected), "{value}: {line}");
        }
        Ok(())
    });
}

#[test]
fn bad_socket_address_names_the_key() {
    jail(|jail| {
        let line = error_line(load_file(jail, "[sip]\nlisten = \"localhost\"\n"));
        assert_eq!(line, "sip.listen: invalid socket address syntax");
        let line = error_line(load_file(jail, "[http]\nlisten = \"1.2.3.4:99999\"\n"));
        assert_eq!(line, "http.listen: invalid socket address syntax");
        Ok(())
    });
}

#[test]
fn bad_value_from_environment_names_the_variable() {
    jail(|jail| {
        jail.set_env("KONFERENZ_SIP__LISTEN", "nowhere");
        let line = error_line(Config::load_valid(None));
        assert_eq!(
            line,
            "sip.listen: invalid socket address syntax \
             (from environment variable KONFERENZ_SIP__LISTEN)"
        );
        Ok(())
    });
}

#[test]
fn unknown_keys_are_named() {
    jail(|jail| {
        let line = error_line(load_file(jail, "[sip]\nlistne = \"127.0.0.1:5060\"\n"));
        assert!(
            line.starts_with("sip.listne: unknown key (expected one of: listen,"),
            "{line}"
        );
        let line = error_line(load_file(jail, "[voicemail]\nenabled = true\n"));
        assert!(line.starts_with("voicemail: unknown key"), "{line}");
        jail.set_env("KONFERENZ_SIP_LISTEN", "127.0.0.1:5070");
        let line = error_line(Config::load_valid(None));
        assert!(line.starts_with("sip_listen: unknown key"), "{line}");
        assert!(
            line.ends_with("(from environment variable KONFERENZ_SIP_LISTEN)"),
            "{line}"
        );
        Ok(())
    });
}

#[test]
fn wrong_types_name_the_key() {
    jail(|jail| {
        let line = error_line(load_file(jail, "[sip]\nrtp_timeout_secs = \"soon\"\n"));
        assert!(
            line.starts_with("sip.rtp_timeout_secs: invalid type"),
            "{line}"
        );
        let line = error_line(load_file(jail, "[sip]\npublic_address = \"example.com\"\n"));
        assert!(line.starts_with("sip.public_address: "), "{line}");
        Ok(())
    });
}

#[test]
fn unspecified_listen_needs_public_address() {
    jail(|jail| {
        let line = error_line(load_file(jail, "[sip]\nlisten = \"0.0.0.0:5060\"\n"));
        assert_eq!(
            line,
            "sip.public_address: must be set when sip.listen is the unspecified address 0.0.0.0"
        );
        Ok(())
    });
}

/// The Request-URI the configured dial plan gives `number`.
fn target(config: &Config, number: &str) -> Option<String> {
    let number = konferenz_conference::Dialable::parse(number).unwrap();
    let plan = config
        .trunk
        .dial_plan()
        .expect("a valid config has a dial plan");
    plan.target(&number).map(|t| t.uri)
}

#[test]
fn trunk_uri_must_be_a_template() {
    jail(|jail| {
        let line = error_line(load_file(jail, "[trunk]\nuri = \"sip:pbx.example\"\n"));
        assert_eq!(line, "trunk.uri: must be a sip: URI containing {number}");
        let line = error_line(load_file(jail, "[trunk]\nusername = \"a\"\n"));
        assert!(line.starts_with("trunk.password: "), "{line}");
        let ok = load_file(jail, "[trunk]\nuri = \"sip:{number}@pbx.example\"\n").unwrap();
        assert_eq!(
            target(&ok, "0441234567").as_deref(),
            Some("sip:0441234567@pbx.example")
        );
        let routed = load_file(
            jail,
            "[trunk]\nuri = \"sip:{number}@pbx.example\"\ninternal_numbers = \"^2[0-9]{2}$\"\n\
             internal_uri = \"sip:{number}@10.0.0.1\"\nexternal_prefix = \"0\"\n",
        )
        .unwrap();
        assert_eq!(target(&routed, "201").as_deref(), Some("sip:201@10.0.0.1"));
        assert_eq!(
            target(&routed, "+41441234567").as_deref(),
            Some("sip:+41441234567@pbx.example"),
            "E.164 numbers get no outside-line prefix"
        );
        assert_eq!(
            target(&routed, "0441234567").as_deref(),
            Some("sip:00441234567@pbx.example")
        );
        assert_eq!(
            target(&routed, "2011").as_deref(),
            Some("sip:02011@pbx.example"),
            "the pattern must match the whole number"
        );
        assert_eq!(
            routed.trunk.registrar_uri().as_deref(),
            Some("sip:pbx.example")
        );
        let line = error_line(load_file(jail, "[trunk]\ninternal_numbers = \"([\"\n"));
        assert!(
            line.starts_with("trunk.internal_numbers: not a regular expression"),
            "{line}"
        );
        let line = error_line(load_file(jail, "[trunk]\ninternal_uri = \"sip:pbx\"\n"));
        assert_eq!(
            line,
            "trunk.internal_uri: must be a sip: URI containing {number}"
        );
        let line = error_line(load_file(jail, "[trunk]\nexternal_prefix = \"0x\"\n"));
        assert_eq!(line, "trunk.external_prefix: use digits, '+', '*' or '#'");
        let line = error_line(load_file(jail, "[trunk]\nregister = true\n"));
        assert!(line.starts_with("trunk.register: "), "{line}");
        Ok(())
    });
}

#[test]
fn phonebook_region_must_be_a_country() {
    jail(|jail| {
        let line = error_line(load_file(jail, "[phonebook]\ndefault_region = \"XX\"\n"));
        assert!(line.starts_with("phonebook.default_region: "), "{line}");
        let ok = load_file(jail, "[phonebook]\ndefault_region = \"ch\"\n");
        assert!(ok.is_ok());
        Ok(())
    });
}

#[test]
fn jitter_bounds_must_be_in_range() {
    jail(|jail| {
        let line = error_line(load_file(jail, "[rtp]\njitter_max_ms = 1000\n"));
        assert_eq!(
            line,
            "rtp.jitter_max_ms: 1000 is outside 20-320 (ms, whole 20 ms frames are used)"
        );
        Ok(())
    });
}

#[test]
fn jitter_bounds_must_be_ordered() {
    jail(|jail| {
        let line = error_line(load_file(
            jail,
            "[rtp]\njitter_min_ms = 300\njitter_max_ms = 200\n",
        ));
        assert_eq!(
            line,
            "rtp.jitter_min_ms: 300 is above rtp.jitter_max_ms 200"
        );
        Ok(())
    });
}

#[test]
fn missing_file_and_bad_syntax_name_the_file() {
    jail(|jail| {
        let line = error_line(Config::load_valid(Some(Path::new("nope.toml"))));
        assert!(line.starts_with("nope.toml: "), "{line}");
        assert!(!line.contains('\n'));
        let line = error_line(load_file(jail, "[sip]\nlisten = \n"));
        assert!(line.starts_with("konferenz.toml: line 2: "), "{line}");
        assert!(!line.contains('\n'), "{line}");
        Ok(())
    });
}

#[test]
fn sip_over_tls_and_srtp_settings_are_checked() {
    jail(|jail| {
        let config = load_file(
            jail,
            "[sip]\ntls_listen = \"127.0.0.1:5061\"\n\
             [http]\ntls_certificate = \"c.pem\"\ntls_private_key = \"k.pem\"\n",
        )
        .unwrap();
        assert_eq!(config.sip.srtp, SrtpMode::Optional);
        assert_eq!(
            config.sip_tls(),
            Some((Path::new("c.pem"), Path::new("k.pem"))),
            "SIP falls back to the HTTPS certificate"
        );
        let config = load_file(
            jail,
            "[sip]\ntls_listen = \"127.0.0.1:5061\"\nsrtp = \"required\"\n\
             tls_certificate = \"s.pem\"\ntls_private_key = \"sk.pem\"\n",
        )
        .unwrap();
        assert_eq!(
            config.sip.srtp.policy(),
            konferenz_sip::SrtpPolicy::Required
        );
        assert_eq!(config.sip_tls().unwrap().0, Path::new("s.pem"));
        for (toml, key) in [
            ("[sip]\ntls_listen = \"127.0.0.1:5061\"\n", "sip.tls_listen"),
            ("[sip]\nsrtp = \"required\"\n", "sip.srtp"),
            ("[sip]\nsrtp = \"always\"\n", "srtp"),
            (
                "[sip]\ntls_certificate = \"s.pem\"\n",
                "sip.tls_certificate",
            ),
            (
                "[sip]\nlisten = \"127.0.0.1:5061\"\ntls_listen = \"127.0.0.1:5061\"\n\
                 tls_certificate = \"s.pem\"\ntls_private_key = \"k.pem\"\n",
                "sip.tls_listen",
            ),
        ] {
            let line = error_line(load_file(jail, toml));
            assert!(line.contains(key), "{toml}: {line}");
        }
        Ok(())
    });
}
