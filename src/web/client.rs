//! Who is asking: the client's address, taken from `X-Forwarded-For` only when the connection
//! comes from a configured trusted proxy (`[web] trusted_proxies`). Anyone else can write that
//! header, so from them it is ignored.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address. Behind trusted proxies it is the rightmost `X-Forwarded-For` entry that
/// is not itself a trusted proxy: each proxy appends the address it saw, so entries to the left
/// of the last untrusted one may be made up by the client.
pub fn address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |a: &IpAddr| trusted.iter().any(|n| n.contains(a));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(a) if is_trusted(&a) => nearest = a,
            Ok(a) => return a,
            // Garbage from a proxy we trust: stop at the last address we know.
            Err(_) => return nearest,
        }
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_proxies;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn the_header_is_ignored_from_an_untrusted_peer() {
        let trusted = parse_proxies(&["127.0.0.1".into()]).expect("valid");
        assert_eq!(address(ip("203.0.113.9"), &headers(&["198.51.100.1"]), &trusted), ip("203.0.113.9"));
        assert_eq!(address(ip("203.0.113.9"), &headers(&["198.51.100.1"]), &[]), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = parse_proxies(&["127.0.0.1".into(), "10.0.0.0/8".into()]).expect("valid");
        let peer = ip("127.0.0.1");
        assert_eq!(address(peer, &headers(&["198.51.100.1"]), &trusted), ip("198.51.100.1"));
        // The client wrote its own first entry; the proxies appended the real one.
        assert_eq!(address(peer, &headers(&["1.2.3.4, 198.51.100.1, 10.0.0.5"]), &trusted), ip("198.51.100.1"));
        assert_eq!(address(peer, &headers(&["1.2.3.4", "198.51.100.1, 10.1.1.1"]), &trusted), ip("198.51.100.1"));
        assert_eq!(address(peer, &headers(&["10.0.0.5"]), &trusted), ip("10.0.0.5"), "all trusted: the farthest");
        assert_eq!(address(peer, &headers(&["garbage, 10.0.0.5"]), &trusted), ip("10.0.0.5"));
        assert_eq!(address(peer, &HeaderMap::new(), &trusted), peer, "no header: the proxy itself");
    }
}
