//! `[web] trusted_proxies`: the addresses and networks whose `X-Forwarded-For` is believed.

use std::net::IpAddr;

use ipnet::IpNet;

/// Parses `trusted_proxies` entries: an address (`127.0.0.1`, `::1`) or a network (`10.0.0.0/8`).
pub fn parse_proxies(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is not an address or a network (e.g. 10.0.0.0/8)"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_proxies;

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn entries_parse_as_addresses_or_networks() {
        let nets = parse_proxies(&["127.0.0.1".into(), "10.0.0.0/8".into(), "::1".into()]).expect("valid");
        assert!(nets[0].contains(&ip("127.0.0.1")) && !nets[0].contains(&ip("127.0.0.2")));
        assert!(nets[1].contains(&ip("10.200.3.4")));
        assert!(parse_proxies(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_proxies(&["proxy.example".into()]).is_err());
    }
}
