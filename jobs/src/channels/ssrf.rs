//! The SSRF guard for tenant webhooks: a tenant-supplied URL must not reach
//! our own network. Every address the host resolves to is checked; loopback,
//! private, link-local (incl. cloud metadata 169.254.169.254), CGNAT, ULA,
//! unspecified, multicast and broadcast are refused unless allowlisted
//! (`notifications.ssrf_allow`). The request is then pinned to the checked
//! addresses, so a second DNS answer (rebinding) cannot swap them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

/// Parses the allowlist (`"127.0.0.1"`, `"10.1.0.0/16"`); bad entries are errors.
pub fn parse_allow(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("notifications.ssrf_allow: {s:?} is not an IP or CIDR"))
        })
        .collect()
}

/// Why an address is refused, or `None` when it is a public address.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            forbidden_v6(v6)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local / metadata")
    } else if ip.is_unspecified() || o[0] == 0 {
        Some("unspecified")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("carrier-grade NAT")
    } else if ip.is_multicast() || ip.is_broadcast() || o[0] >= 240 {
        Some("multicast / reserved")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Some("link-local")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some("unique local / metadata")
    } else if ip.is_multicast() {
        Some("multicast")
    } else {
        None
    }
}

/// Checks one address against the guard and the allowlist.
pub fn check(ip: IpAddr, allow: &[IpNet]) -> Result<(), String> {
    match forbidden(ip) {
        Some(why) if !allow.iter().any(|n| n.contains(&ip)) => Err(format!(
            "webhook address {ip} is {why}; refused (SSRF guard)"
        )),
        _ => Ok(()),
    }
}

/// Resolves `url`'s host and checks every address; returns (host, addresses) to pin.
pub async fn resolve(
    url: &reqwest::Url,
    allow: &[IpNet],
) -> Result<(String, Vec<SocketAddr>), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("webhook URL must be http or https".into());
    }
    let host = url.host_str().ok_or("webhook URL has no host")?.to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|_| format!("cannot resolve webhook host {host}"))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("webhook host {host} has no address"));
    }
    for a in &addrs {
        check(a.ip(), allow)?;
    }
    Ok((host, addrs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_refused() {
        for a in [
            "127.0.0.1",
            "10.0.0.5",
            "172.16.3.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(check(ip(a), &[]).is_err(), "{a} should be refused");
        }
        for a in ["8.8.8.8", "200.160.2.3", "2001:4860:4860::8888"] {
            assert!(check(ip(a), &[]).is_ok(), "{a} should pass");
        }
    }

    #[test]
    fn allowlist_opens_exact_ranges() {
        let allow = parse_allow(&["127.0.0.1".into(), "10.1.0.0/16".into()]).unwrap();
        assert!(check(ip("127.0.0.1"), &allow).is_ok());
        assert!(check(ip("127.0.0.2"), &allow).is_err());
        assert!(check(ip("10.1.9.9"), &allow).is_ok());
        assert!(check(ip("10.2.0.1"), &allow).is_err());
        assert!(parse_allow(&["nope".into()]).is_err());
    }

    proptest! {
        #[test]
        fn every_rfc1918_address_is_refused(b in any::<u8>(), c in any::<u8>(), d in any::<u8>(), second in 16u8..32) {
            prop_assert!(check(IpAddr::V4(Ipv4Addr::new(10, b, c, d)), &[]).is_err());
            prop_assert!(check(IpAddr::V4(Ipv4Addr::new(172, second, c, d)), &[]).is_err());
            prop_assert!(check(IpAddr::V4(Ipv4Addr::new(192, 168, c, d)), &[]).is_err());
            prop_assert!(check(IpAddr::V4(Ipv4Addr::new(169, 254, c, d)), &[]).is_err());
        }
    }

    #[tokio::test]
    async fn names_are_resolved_before_checking() {
        let url = reqwest::Url::parse("http://localhost:9/hook").unwrap();
        assert!(resolve(&url, &[]).await.is_err());
        let allow = parse_allow(&["127.0.0.1".into(), "::1".into()]).unwrap();
        assert!(resolve(&url, &allow).await.is_ok());
        let ftp = reqwest::Url::parse("ftp://example.com/").unwrap();
        assert!(resolve(&ftp, &allow).await.is_err());
    }
}
