//! `[web.oidc]`: staff sign in at the region's OpenID provider (Entra ID, Google Workspace, …) with
//! the authorization code flow; a claim of the ID token (`groups` or `roles`) gives the role.

use std::path::PathBuf;

use serde::Deserialize;

use super::Secret;
use crate::domain::Role;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer, e.g. `https://login.microsoftonline.com/<tenant id>/v2.0`; its
    /// discovery document is read from `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// A file holding the secret (a container secret), instead of `client_secret`.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// Where the provider sends the browser back: `https://helpdesk.example/auth/callback`.
    pub redirect_url: String,
    /// Where the provider's sign-out sends the browser back; by default `/login` beside
    /// `redirect_url`.
    #[serde(default)]
    pub post_logout_redirect_url: Option<String>,
    /// Scopes asked for besides `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The ID token claim that carries the person's groups or app roles: `groups`, `roles`, or
    /// another claim holding a string or a list of strings.
    #[serde(default = "default_role_claim")]
    pub role_claim: String,
    /// Claim values and the role each gives; the first entry the claim holds wins.
    #[serde(default)]
    pub role_map: Vec<RoleMapping>,
    /// The provider's name on the sign-in button ("Logg inn med Entra ID"); empty: a generic name.
    #[serde(default)]
    pub display_name: String,
    /// `false`: only break-glass accounts (`routedesk user add --break-glass`) may sign in with a
    /// password; everyone else signs in at the provider.
    #[serde(default = "default_password_login")]
    pub password_login: bool,
}

/// One claim value and the role it gives.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RoleMapping {
    pub value: String,
    pub role: String,
    /// For `municipal`: the policy id of the municipality.
    #[serde(default)]
    pub municipality: Option<String>,
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(String::from).to_vec()
}

fn default_role_claim() -> String {
    "groups".into()
}

fn default_password_login() -> bool {
    true
}

impl OidcConfig {
    /// The client secret, from the configuration or its file.
    pub fn secret(&self) -> Result<Secret, String> {
        match (&self.client_secret, &self.client_secret_file) {
            (Some(s), _) => Ok(s.clone()),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|s| Secret::new(s.trim().to_string()))
                .map_err(|e| format!("web.oidc.client_secret_file: cannot read {}: {e}", path.display())),
            (None, None) => Err("web.oidc: set client_secret (or client_secret_file)".into()),
        }
    }

    /// Where the provider's sign-out sends the browser: as configured, or `/login` at the origin
    /// of `redirect_url`.
    pub fn post_logout_url(&self) -> Option<String> {
        if let Some(u) = &self.post_logout_redirect_url {
            return Some(u.clone());
        }
        let url = reqwest::Url::parse(&self.redirect_url).ok()?;
        Some(format!("{}/login", url.origin().ascii_serialization()))
    }

    /// Everything wrong with the section, for `Config::validate`. Whether each municipality is
    /// in the policy is checked when the web view starts (the policy is read then).
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if let Err(e) = check_url(&self.issuer) {
            p.push(format!("web.oidc.issuer {:?}: {e}", self.issuer));
        }
        if self.client_id.trim().is_empty() {
            p.push("web.oidc.client_id is empty".into());
        }
        if self.client_secret.is_some() && self.client_secret_file.is_some() {
            p.push("web.oidc: set client_secret or client_secret_file, not both".into());
        }
        match self.secret() {
            Err(e) => p.push(e),
            Ok(s) if s.expose().is_empty() => p.push("web.oidc.client_secret is empty".into()),
            Ok(_) => {}
        }
        match check_url(&self.redirect_url) {
            Err(e) => p.push(format!("web.oidc.redirect_url {:?}: {e}", self.redirect_url)),
            Ok(u) if u.path() != "/auth/callback" => p.push(format!(
                "web.oidc.redirect_url {:?} must end in /auth/callback (where routedesk takes the answer)",
                self.redirect_url
            )),
            Ok(_) => {}
        }
        if let Some(u) = &self.post_logout_redirect_url
            && let Err(e) = check_url(u)
        {
            p.push(format!("web.oidc.post_logout_redirect_url {u:?}: {e}"));
        }
        if self.scopes.iter().any(|s| s.trim().is_empty() || s.contains(char::is_whitespace)) {
            p.push("web.oidc.scopes: each scope is one word".into());
        }
        if self.role_claim.trim().is_empty() {
            p.push("web.oidc.role_claim is empty (groups or roles)".into());
        }
        if self.role_map.is_empty() {
            p.push("web.oidc.role_map is empty: nobody could sign in".into());
        }
        for m in &self.role_map {
            p.extend(m.problem());
        }
        p
    }
}

impl RoleMapping {
    fn problem(&self) -> Option<String> {
        if self.value.is_empty() {
            return Some("web.oidc.role_map: an entry has an empty value".into());
        }
        let Ok(role) = self.role.parse::<Role>() else {
            let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            return Some(format!(
                "web.oidc.role_map {:?}: role {:?} is not one of {}",
                self.value,
                self.role,
                roles.join(", ")
            ));
        };
        match (role, &self.municipality) {
            (Role::Municipal, None) => {
                Some(format!("web.oidc.role_map {:?}: a municipal role needs a municipality", self.value))
            }
            (Role::Municipal, Some(_)) => None,
            (_, Some(_)) => {
                Some(format!("web.oidc.role_map {:?}: only the municipal role has a municipality", self.value))
            }
            (_, None) => None,
        }
    }
}

/// A URL routedesk sends people or secrets to: https, or http on loopback (a local test provider).
fn check_url(url: &str) -> Result<reqwest::Url, &'static str> {
    use openidconnect::url::Host;
    let parsed = reqwest::Url::parse(url).map_err(|_| "is not a URL")?;
    let loopback = match parsed.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(a)) => a.is_loopback(),
        Some(Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err("must be https (plain http only on loopback)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> OidcConfig {
        toml::from_str(&format!(
            r#"
issuer = "https://login.microsoftonline.com/tenant/v2.0"
client_id = "app"
client_secret = "s3cret"
redirect_url = "https://helpdesk.example/auth/callback"
{extra}
"#
        ))
        .expect("parses")
    }

    const MAP: &str = r#"
role_map = [
  { value = "rd-helpdesk", role = "helpdesk" },
  { value = "rd-municipal-gjovik", role = "municipal", municipality = "gjovik" },
]"#;

    #[test]
    fn defaults_ask_for_openid_email_and_profile_and_read_groups() {
        let c = parse(MAP);
        assert_eq!(c.scopes, ["openid", "email", "profile"]);
        assert_eq!(c.role_claim, "groups");
        assert!(c.password_login);
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        assert_eq!(c.post_logout_url().as_deref(), Some("https://helpdesk.example/login"));
        assert_eq!(format!("{:?}", c.client_secret), "Some(\"***\")", "the secret never shows");
    }

    #[test]
    fn every_problem_is_named() {
        let c = parse(
            r#"
role_claim = ""
role_map = [
  { value = "a", role = "boss" },
  { value = "b", role = "municipal" },
  { value = "c", role = "helpdesk", municipality = "gjovik" },
]"#,
        );
        let c = OidcConfig {
            issuer: "http://idp.example".into(),
            redirect_url: "https://helpdesk.example/callback".into(),
            client_secret_file: Some("/nonexistent/secret".into()),
            ..c
        };
        let p = c.problems().join("\n");
        for part in [
            "web.oidc.issuer \"http://idp.example\": must be https",
            "set client_secret or client_secret_file, not both",
            "must end in /auth/callback",
            "role_claim is empty",
            "role \"boss\" is not one of admin, helpdesk, municipal, privacy",
            "\"b\": a municipal role needs a municipality",
            "\"c\": only the municipal role has a municipality",
        ] {
            assert!(p.contains(part), "{part:?} missing from:\n{p}");
        }
        assert!(parse("").problems().iter().any(|m| m.contains("role_map is empty")));
    }

    #[test]
    fn loopback_may_use_plain_http_and_the_secret_may_come_from_a_file() {
        let dir = std::env::temp_dir().join(format!("rd-oidc-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("secret"), "from-file\n").expect("write");
        let c = OidcConfig {
            issuer: "http://127.0.0.1:9400".into(),
            redirect_url: "http://127.0.0.1:8080/auth/callback".into(),
            client_secret: None,
            client_secret_file: Some(dir.join("secret")),
            ..parse(MAP)
        };
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        assert_eq!(c.secret().expect("secret").expose(), "from-file");
        assert_eq!(c.post_logout_url().as_deref(), Some("http://127.0.0.1:8080/login"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
