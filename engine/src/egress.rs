//! Egress rules for `http` steps (PRODUCT.md §15): which addresses a step may connect to.
//!
//! Link-local and cloud metadata addresses are denied by default; loopback and private ranges
//! are allowed (an intranet tool calls intranet services) and can be denied. An address in an
//! `allow` range is allowed whatever denies it (the way to let one host of a denied range
//! through); otherwise one in a `deny` range is refused. The rule is checked on the address
//! actually connected to: after DNS (in the http client's resolver), for IP literals in the URL,
//! and on every redirect. The rules are `SLIPWAY_HTTP_DENY` / `SLIPWAY_HTTP_ALLOW` (CIDR lists,
//! comma or space separated) plus what admins set in Settings → Network.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Denied unless allowed: link-local (IPv4 and IPv6, which hold the cloud metadata services at
/// 169.254.169.254 and fe80::a9fe:a9fe) and AWS's IPv6 metadata address.
pub const DEFAULT_DENY: [&str; 3] = ["169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128"];

/// What admins set in Settings → Network (stored), beside the defaults and the environment.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct NetworkSettings {
    #[serde(default)]
    pub deny: Vec<String>,
    #[serde(default)]
    pub allow: Vec<String>,
}

/// One range and where it comes from, to name it in errors.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    net: IpNet,
    from: &'static str,
}

/// The rules in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EgressRules {
    deny: Vec<Rule>,
    allow: Vec<Rule>,
}

impl Default for EgressRules {
    fn default() -> EgressRules {
        EgressRules::new(&[], &[], &NetworkSettings::default()).expect("valid defaults")
    }
}

/// Parses a CIDR list (`10.0.0.0/8, 192.168.1.7`); a bare address is its own /32 or /128.
pub fn parse_cidrs(text: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for item in text
        .split([',', ' ', '\n', '\r', '\t'])
        .filter(|s| !s.is_empty())
    {
        parse_net(item)?;
        out.push(item.to_string());
    }
    Ok(out)
}

/// [`parse_cidrs`], as ranges (for the server's trusted proxies).
pub fn parse_nets(text: &str) -> Result<Vec<IpNet>> {
    parse_cidrs(text)?.iter().map(|n| parse_net(n)).collect()
}

fn parse_net(item: &str) -> Result<IpNet> {
    let item = item.trim();
    item.parse::<IpNet>()
        .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| Error::Invalid(format!("`{item}` is not an IP address or CIDR range")))
}

impl EgressRules {
    /// The defaults, the environment's lists and the stored settings.
    pub fn new(
        env_deny: &[String],
        env_allow: &[String],
        settings: &NetworkSettings,
    ) -> Result<Self> {
        fn rules<'a>(
            lists: impl IntoIterator<Item = (&'a [String], &'static str)>,
        ) -> Result<Vec<Rule>> {
            let mut out = Vec::new();
            for (list, from) in lists {
                for item in list {
                    out.push(Rule {
                        net: parse_net(item)?,
                        from,
                    });
                }
            }
            Ok(out)
        }
        let defaults: Vec<String> = DEFAULT_DENY.iter().map(|d| d.to_string()).collect();
        let deny = rules([
            (defaults.as_slice(), "default"),
            (env_deny, "SLIPWAY_HTTP_DENY"),
            (settings.deny.as_slice(), "Settings → Network"),
        ])?;
        let allow = rules([
            (env_allow, "SLIPWAY_HTTP_ALLOW"),
            (settings.allow.as_slice(), "Settings → Network"),
        ])?;
        Ok(EgressRules { deny, allow })
    }

    /// Why `ip` may not be connected to, or `None` when it may.
    pub fn denial(&self, ip: IpAddr) -> Option<String> {
        let ip = ip.to_canonical();
        if self.allow.iter().any(|r| r.net.contains(&ip)) {
            return None;
        }
        self.deny.iter().find(|r| r.net.contains(&ip)).map(|r| {
            format!(
                "{ip} is denied by the egress rule {} ({}); admins change the rules in \
                 Settings → Network",
                r.net, r.from
            )
        })
    }
}

/// The rules the http client checks, process-wide (the client is shared by every run).
pub(crate) fn current() -> Arc<EgressRules> {
    RULES
        .read()
        .map(|r| r.clone())
        .unwrap_or_else(|p| p.into_inner().clone())
}

static RULES: std::sync::LazyLock<RwLock<Arc<EgressRules>>> =
    std::sync::LazyLock::new(|| RwLock::new(Arc::new(EgressRules::default())));

/// The environment's lists, kept to combine with settings changed later.
static ENV_LISTS: RwLock<(Vec<String>, Vec<String>)> = RwLock::new((Vec::new(), Vec::new()));

/// Sets the environment's deny and allow lists (`SLIPWAY_HTTP_DENY`, `SLIPWAY_HTTP_ALLOW`).
pub fn set_env_lists(deny: &str, allow: &str) -> Result<()> {
    let lists = (parse_cidrs(deny)?, parse_cidrs(allow)?);
    *ENV_LISTS.write().unwrap_or_else(|p| p.into_inner()) = lists;
    Ok(())
}

/// Puts the defaults, the environment's lists and `settings` in force.
pub(crate) fn install(settings: &NetworkSettings) -> Result<()> {
    let (deny, allow) = ENV_LISTS
        .read()
        .map(|l| l.clone())
        .unwrap_or_else(|p| p.into_inner().clone());
    let rules = EgressRules::new(&deny, &allow, settings)?;
    *RULES.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(rules);
    Ok(())
}

const SETTINGS_KEY: &str = "network_settings";

impl crate::Engine {
    /// The egress lists admins set (Settings → Network).
    pub fn network_settings(&self) -> Result<NetworkSettings> {
        use redb::ReadableDatabase;
        let r = self.db().begin_read()?;
        let t = r.open_table(crate::store::META)?;
        match t.get(SETTINGS_KEY)? {
            Some(v) => Ok(serde_json::from_str(v.value())?),
            None => Ok(NetworkSettings::default()),
        }
    }

    /// Replaces them (admins); every entry must parse, and they apply to the next connection.
    pub fn set_network_settings(
        &self,
        user: &crate::User,
        settings: NetworkSettings,
    ) -> Result<NetworkSettings> {
        user.require(crate::Role::Admin)?;
        let settings = NetworkSettings {
            deny: parse_cidrs(&settings.deny.join(","))?,
            allow: parse_cidrs(&settings.allow.join(","))?,
        };
        EgressRules::new(&[], &[], &settings)?;
        let w = self.db().begin_write()?;
        w.open_table(crate::store::META)?
            .insert(SETTINGS_KEY, serde_json::to_string(&settings)?.as_str())?;
        crate::audit::audit_in(
            &w,
            self.now(),
            &user.username,
            crate::AuditAction::Settings,
            None,
            format!(
                "set egress rules: deny [{}], allow [{}]",
                settings.deny.join(", "),
                settings.allow.join(", ")
            ),
        )?;
        w.commit()?;
        install(&settings)?;
        Ok(settings)
    }

    /// Puts the stored rules in force (at start).
    pub fn apply_network_settings(&self) -> Result<()> {
        install(&self.network_settings()?)
    }
}

/// The http client's resolver: DNS as usual, then only the addresses the rules allow. When none
/// is left the connection fails with the rule that denied the first one.
pub(crate) struct CheckedResolver;

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let rules = current();
            let mut denied = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match rules.denial(a.ip()) {
                    Some(why) => {
                        denied.get_or_insert(why);
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                let why = denied.unwrap_or_else(|| format!("{host} has no address"));
                return Err(Box::new(EgressDenied(why)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A connection the rules refused (found in a request error's source chain).
#[derive(Debug)]
pub(crate) struct EgressDenied(pub String);

impl std::fmt::Display for EgressDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EgressDenied {}

/// For URLs whose host is an IP literal (the resolver never sees them): why it is denied.
pub(crate) fn check_url(url: &reqwest::Url) -> Option<String> {
    let ip = match url.host()? {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(_) => return None,
    };
    current().denial(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(rules: &EgressRules, ip: &str) -> bool {
        rules.denial(ip.parse().unwrap()).is_some()
    }

    #[test]
    fn defaults_deny_link_local_and_metadata_only() {
        let rules = EgressRules::default();
        // Checked as data only: nothing is ever sent to these addresses.
        for ip in [
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
        ] {
            assert!(denied(&rules, ip), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.10",
            "172.16.5.5",
            "::1",
            "93.184.216.34",
        ] {
            assert!(!denied(&rules, ip), "{ip}");
        }
        let why = rules.denial("169.254.169.254".parse().unwrap()).unwrap();
        assert!(why.contains("169.254.0.0/16 (default)"), "{why}");
    }

    #[test]
    fn deny_and_allow_lists() {
        let settings = NetworkSettings {
            deny: vec!["10.0.0.0/8".into()],
            allow: vec!["10.0.0.7".into(), "169.254.10.10/32".into()],
        };
        let rules = EgressRules::new(&["127.0.0.2/32".into()], &[], &settings).unwrap();
        assert!(denied(&rules, "10.9.9.9"));
        assert!(!denied(&rules, "10.0.0.7"), "allowed wins");
        assert!(!denied(&rules, "169.254.10.10"));
        assert!(denied(&rules, "127.0.0.2"));
        assert!(!denied(&rules, "127.0.0.1"));
        let why = rules.denial("127.0.0.2".parse().unwrap()).unwrap();
        assert!(why.contains("127.0.0.2/32 (SLIPWAY_HTTP_DENY)"), "{why}");
        assert!(parse_cidrs("10.0.0.0/8, nonsense").is_err());
        assert_eq!(parse_cidrs("10.0.0.0/8 ::1").unwrap().len(), 2);
    }
}
