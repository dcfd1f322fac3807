//! Every route, from the router's own list: (a) test-plan 41, municipality isolation — a municipal
//! user of each of two municipalities, and a data-protection contact, against the other's tickets,
//! files, search hits, counts, dashboard figures, incidents, privacy cases, set-aside mail and API
//! answers, also after a ticket is re-routed away; (b) test-plan 38, CSRF — every POST route
//! refuses a request without the form token, with a wrong one, and from a foreign origin. A route
//! added to the router without an entry here fails both tests.

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode, header};
use routedesk::web::auth;

use super::{App, Session, set_cookie, text};
use crate::service::on_both_databases;
use crate::support::Db;

on_both_databases!(no_route_shows_a_municipal_user_another_municipality, every_post_route_refuses_a_forged_request);

/// What a route may show of another municipality, and how it is probed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Takes no ticket, file or case identifier and shows no ticket data: its answer must not name
    /// another municipality's ticket.
    NoTicketData,
    /// Signing in and out: no ticket data, and not probed with a user's session.
    Session,
    TicketList,
    TicketPage,
    File,
    TicketAction,
    /// Spans municipalities (incidents, set-aside mail): "not found" for municipal users.
    Regional,
    RegionalAction,
    PrivacyList,
    PrivacyCase,
    PrivacyAction,
    Dashboard,
    ApiList,
    ApiTicket,
    /// For admins only: "not found" for everyone probed here.
    AdminOnly,
}

/// Every route of the web view, with what it may show. A new route needs a line here.
const EXPECT: &[(&str, &str, Expect)] = &[
    ("GET", "/", Expect::NoTicketData),
    ("GET", "/login", Expect::Session),
    ("POST", "/login", Expect::Session),
    ("POST", "/logout", Expect::Session),
    ("GET", "/auth/login", Expect::Session),
    ("GET", "/auth/callback", Expect::Session),
    ("GET", "/lang/{code}", Expect::NoTicketData),
    ("GET", "/tickets", Expect::TicketList),
    ("GET", "/tickets/{number}", Expect::TicketPage),
    ("GET", "/tickets/{number}/files/{id}", Expect::File),
    ("GET", "/tickets/{number}/files/{id}/thumbnail", Expect::File),
    ("POST", "/tickets/{number}/{action}", Expect::TicketAction),
    ("GET", "/incidents", Expect::Regional),
    ("GET", "/incidents/{number}", Expect::Regional),
    ("POST", "/incidents/{number}/{action}", Expect::RegionalAction),
    ("GET", "/privacy", Expect::PrivacyList),
    ("GET", "/privacy/{number}", Expect::PrivacyCase),
    ("POST", "/privacy/{number}/{action}", Expect::PrivacyAction),
    ("GET", "/mail", Expect::Regional),
    ("GET", "/mail/{id}/raw", Expect::Regional),
    ("POST", "/mail/{id}/ticket", Expect::RegionalAction),
    ("GET", "/tester", Expect::NoTicketData),
    ("POST", "/tester", Expect::NoTicketData),
    ("GET", "/dashboard", Expect::Dashboard),
    ("GET", "/audit", Expect::AdminOnly),
    ("GET", "/learning", Expect::Regional),
    ("POST", "/learning/{id}/undo", Expect::RegionalAction),
    ("GET", "/api/tickets", Expect::ApiList),
    ("GET", "/api/tickets/{number}", Expect::ApiTicket),
    ("GET", "/status", Expect::NoTicketData),
    ("GET", "/status.json", Expect::NoTicketData),
    ("GET", "/healthz", Expect::NoTicketData),
    ("GET", "/readyz", Expect::NoTicketData),
    ("GET", "/metrics", Expect::NoTicketData),
    ("GET", "/static/app.css", Expect::NoTicketData),
    ("GET", "/favicon.ico", Expect::NoTicketData),
];

/// How a POST route's form is sent in the CSRF test. A new POST route needs a line here.
const FORMS: &[(&str, Form)] = &[
    ("/login", Form::SignIn),
    ("/logout", Form::Fields),
    ("/tickets/{number}/{action}", Form::Fields),
    ("/incidents/{number}/{action}", Form::Fields),
    ("/privacy/{number}/{action}", Form::Fields),
    ("/mail/{id}/ticket", Form::Fields),
    ("/tester", Form::Multipart),
    ("/learning/{id}/undo", Form::Fields),
];

#[derive(Debug, Clone, Copy)]
enum Form {
    /// The sign-in form, with its own double-submit token.
    SignIn,
    Fields,
    Multipart,
}

/// The router's routes, each with its expectation; fails on a route without one (and on an
/// expectation for a route that is gone).
fn routes_with_expectations() -> Vec<(Method, &'static str, Expect)> {
    let routes = routedesk::web::routes();
    for (m, p, _) in EXPECT {
        assert!(routes.iter().any(|(rm, rp)| rm.as_str() == *m && rp == p), "{m} {p} is no route any more");
    }
    routes
        .into_iter()
        .map(|(m, p)| {
            let e = EXPECT.iter().find(|(em, ep, _)| *em == m.as_str() && *ep == p).map(|e| e.2);
            let e = e.unwrap_or_else(|| panic!("{m} {p} has no isolation expectation: add it to EXPECT"));
            (m, p, e)
        })
        .collect()
}

/// The tickets, files and cases of two municipalities.
struct World {
    app: App,
    gjovik: Own,
    toten: Own,
    incident: String,
    set_aside: i64,
}

/// One municipality's things.
#[derive(Debug, Clone)]
struct Own {
    municipality: &'static str,
    ticket: String,
    file: i64,
    privacy: String,
}

async fn world(db: Db) -> World {
    let app = App::new(db).await;
    let n = app
        .ingest(&[
            "01-gjovik-lonn-complete.eml",
            "02-ostre-toten-faktura-complete.eml",
            "60-autosvar-auto-submitted.eml",
        ])
        .await;
    app.add_user("gro", "municipal", Some("gjovik")).await;
    app.add_user("po", "privacy", None).await;
    let desk = &app.state.desk;
    let store = desk.store();
    let mut owns = Vec::new();
    for (number, municipality) in [(&n[0], "gjovik"), (&n[1], "ostre-toten")] {
        let t = store.ticket_by_number(number).await.expect("q").expect("ticket");
        let file = store.attachments_of(t.id).await.expect("files").first().expect("a file").id;
        let privacy = desk.flag_privacy(number, "kari (helpdesk)").await.expect("privacy case");
        owns.push(Own { municipality, ticket: number.clone(), file, privacy });
    }
    // Both reports in one incident.
    let mut tx = store.begin().await.expect("tx");
    let now = time::OffsetDateTime::now_utc();
    let (incident_id, incident) = tx.create_incident("Samme feil", now).await.expect("incident");
    for own in &owns {
        let t = store.ticket_by_number(&own.ticket).await.expect("q").expect("ticket");
        tx.set_ticket_incident(t.id, Some(incident_id)).await.expect("member");
    }
    tx.set_incident_state(
        incident_id,
        routedesk::domain::IncidentState::Suspected,
        None,
        now,
        "test",
        "two municipalities",
    )
    .await
    .expect("state");
    tx.commit().await.expect("commit");
    let set_aside = store.untracked_messages(10).await.expect("q").first().expect("set aside").id;
    let toten = owns.pop().expect("toten");
    let gjovik = owns.pop().expect("gjovik");
    World { app, gjovik, toten, incident, set_aside }
}

/// Who probes: their session, what is theirs, what is not, and whether they are municipal.
struct Prober<'a> {
    name: &'static str,
    session: Session,
    own: &'a Own,
    other: &'a Own,
    municipal: bool,
}

impl World {
    async fn send(&self, method: &Method, path: &str, s: &Session, form: &[(&str, &str)]) -> Response<Body> {
        if *method == Method::GET {
            return self.app.get(path, Some(s)).await;
        }
        let mut f = vec![("csrf", s.csrf.as_str())];
        f.extend_from_slice(form);
        self.app.post(path, Some(s), &f).await
    }
}

/// `path` with its parameters filled in.
fn fill(path: &str, number: &str, id: i64, action: &str) -> String {
    path.replace("{number}", number)
        .replace("{id}", &id.to_string())
        .replace("{action}", action)
        .replace("{code}", "en")
}

async fn probe(w: &World, p: &Prober<'_>, method: &Method, path: &str, expect: Expect) {
    let what = format!("{} {method} {path}", p.name);
    let other = &p.other.ticket;
    let hidden = |status: StatusCode| assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
    let shown = |status: StatusCode| assert!(status.is_success() || status.is_redirection(), "{what}: {status}");
    match expect {
        Expect::Session => {}
        Expect::NoTicketData => {
            assert!(!path.contains("{number}") && !path.contains("{id}"), "{what} takes an identifier");
            if *method == Method::GET {
                let res = w.send(method, &fill(path, "", 0, ""), &p.session, &[]).await;
                assert!(res.status() != StatusCode::INTERNAL_SERVER_ERROR, "{what}");
                assert!(!text(res).await.contains(other.as_str()), "{what} names {other}");
            }
        }
        Expect::TicketList => {
            let own_mun = p.own.municipality;
            for query in ["", &format!("?q={other}"), &format!("?municipality={}", p.other.municipality)] {
                let page = text(w.send(method, &format!("{path}{query}"), &p.session, &[]).await).await;
                // A row links to its ticket (the search box repeats what was asked).
                assert_eq!(page.contains(&format!("href=\"/tickets/{other}\"")), !p.municipal, "{what}{query}");
            }
            let page = text(w.send(method, path, &p.session, &[]).await).await;
            let total = if p.municipal { 1 } else { 2 };
            assert!(page.contains(&format!("Saker <span class=\"count\">{total}</span>")), "{what}: the count");
            assert!(!p.municipal || page.contains(p.own.ticket.as_str()), "{what}: {own_mun} sees its own");
        }
        Expect::TicketPage | Expect::ApiTicket => {
            let res = w.send(method, &fill(path, other, 0, ""), &p.session, &[]).await;
            if p.municipal { hidden(res.status()) } else { shown(res.status()) }
        }
        Expect::File => {
            let res = w.send(method, &fill(path, other, p.other.file, ""), &p.session, &[]).await;
            if p.municipal {
                hidden(res.status())
            } else {
                shown(res.status())
            }
            let through_own = w.send(method, &fill(path, &p.own.ticket, p.other.file, ""), &p.session, &[]).await;
            hidden(through_own.status());
        }
        Expect::TicketAction => {
            if !p.municipal {
                let res = w.send(method, &fill(path, other, 0, "note"), &p.session, &[("text", "sett")]).await;
                return shown(res.status());
            }
            for action in ["note", "class", "municipality", "reroute", "status", "privacy", "link", "nonsense"] {
                let form = [
                    ("text", "x"),
                    ("class", "access"),
                    ("municipality", p.own.municipality),
                    ("status", "resolved"),
                    ("other", p.own.ticket.as_str()),
                ];
                hidden(w.send(method, &fill(path, other, 0, action), &p.session, &form).await.status());
            }
            let link = w.send(method, &fill(path, &p.own.ticket, 0, "link"), &p.session, &[("other", other)]).await;
            assert_eq!(link.status(), StatusCode::BAD_REQUEST, "{what}: linking to another's ticket");
            let t = w.app.state.desk.store().ticket_by_number(other).await.expect("q").expect("t");
            assert_eq!(t.municipality.as_deref(), Some(p.other.municipality), "{what}: nothing changed");
        }
        Expect::Regional | Expect::RegionalAction | Expect::PrivacyCase | Expect::PrivacyAction => {
            // An invalid stage: a visible incident or case answers 400 and nothing changes.
            let (number, action) = match expect {
                Expect::PrivacyCase | Expect::PrivacyAction => (p.other.privacy.as_str(), "stage"),
                _ if path.starts_with("/incidents") => (w.incident.as_str(), "update"),
                _ => ("", "update"),
            };
            let form = [("stage", "no-such-stage"), ("text", "x")];
            let status = w.send(method, &fill(path, number, w.set_aside, action), &p.session, &form).await.status();
            if p.municipal {
                hidden(status)
            } else {
                assert!(status != StatusCode::NOT_FOUND && status != StatusCode::FORBIDDEN, "{what}: {status}")
            }
        }
        Expect::PrivacyList => {
            let page = text(w.send(method, path, &p.session, &[]).await).await;
            for case in [&p.own.privacy, &p.other.privacy] {
                assert_eq!(page.contains(case.as_str()), !p.municipal, "{what}: {case}");
            }
        }
        Expect::Dashboard => {
            let page = text(w.send(method, path, &p.session, &[]).await).await;
            let row = format!("<td>{}</td>", w.app.state.desk.policy().municipality_name(p.other.municipality));
            assert_eq!(page.contains(&row), !p.municipal, "{what}: figures of {}", p.other.municipality);
            // Their own ticket alone (the data-protection contact's figures include a ticket made
            // from set-aside mail by an earlier probe).
            assert!(!p.municipal || page.contains("<span class=\"big\">1</span> 30 d"), "{what}: one in 30 days");
        }
        Expect::AdminOnly => hidden(w.send(method, path, &p.session, &[]).await.status()),
        Expect::ApiList => {
            for query in ["", &format!("?q={other}"), &format!("?municipality={}", p.other.municipality)] {
                let body = text(w.send(method, &format!("{path}{query}"), &p.session, &[]).await).await;
                assert_eq!(body.contains(&format!("\"number\":\"{other}\"")), !p.municipal, "{what}{query}");
            }
        }
    }
}

async fn no_route_shows_a_municipal_user_another_municipality(db: Db) {
    let routes = routes_with_expectations();
    let w = world(db).await;
    let (gro, ola, po) = (w.app.sign_in("gro").await, w.app.sign_in("ola").await, w.app.sign_in("po").await);
    let probers = [
        Prober { name: "gro (gjovik)", session: gro.clone(), own: &w.gjovik, other: &w.toten, municipal: true },
        Prober { name: "ola (ostre-toten)", session: ola.clone(), own: &w.toten, other: &w.gjovik, municipal: true },
        Prober { name: "po (privacy)", session: po, own: &w.toten, other: &w.gjovik, municipal: false },
    ];
    for p in &probers {
        for (method, path, expect) in &routes {
            probe(&w, p, method, path, *expect).await;
        }
    }

    // Re-routed away: Østre Toten's ticket moves to Gjøvik, and Østre Toten loses it everywhere.
    let kari = w.app.sign_in("kari").await;
    let moved = &w.toten.ticket;
    for (action, form) in [("municipality", [("municipality", "gjovik")]), ("reroute", [("text", "")])] {
        let res = w.send(&Method::POST, &format!("/tickets/{moved}/{action}"), &kari, &form).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{action}");
    }
    for path in [
        format!("/tickets/{moved}"),
        format!("/tickets/{moved}/files/{}", w.toten.file),
        format!("/api/tickets/{moved}"),
    ] {
        assert_eq!(w.app.get(&path, Some(&ola)).await.status(), StatusCode::NOT_FOUND, "ola after re-routing: {path}");
        assert_eq!(w.app.get(&path, Some(&gro)).await.status(), StatusCode::OK, "gro after re-routing: {path}");
    }
    for path in ["/tickets", "/api/tickets", "/tickets?q=faktura"] {
        assert!(!text(w.app.get(path, Some(&ola)).await).await.contains(moved.as_str()), "ola's {path}");
        assert!(text(w.app.get(path, Some(&gro)).await).await.contains(moved.as_str()), "gro's {path}");
    }
    let dash = text(w.app.get("/dashboard", Some(&ola)).await).await;
    let left = routedesk::store::TicketFilter { scope: Some("ostre-toten".into()), ..Default::default() };
    let left = w.app.state.desk.store().facets(&left).await.expect("facets").total;
    assert!(dash.contains(&format!("<span class=\"big\">{left}</span> 30 d")), "ola's dashboard counts only {left}");
    assert!(!dash.contains("<td>Gjøvik kommune</td>"), "nor Gjøvik's figures");
}

async fn every_post_route_refuses_a_forged_request(db: Db) {
    let posts: Vec<&'static str> =
        routes_with_expectations().into_iter().filter(|(m, _, _)| *m == Method::POST).map(|(_, p, _)| p).collect();
    let w = world(db).await;
    let admin = w.app.sign_in("admin").await;
    for path in posts {
        let form = FORMS.iter().find(|(p, _)| *p == path).map(|f| f.1);
        let form = form.unwrap_or_else(|| panic!("POST {path} has no CSRF form: add it to FORMS"));
        let number = if path.starts_with("/incidents") {
            w.incident.clone()
        } else if path.starts_with("/privacy") {
            w.gjovik.privacy.clone()
        } else {
            w.gjovik.ticket.clone()
        };
        let action = if path.starts_with("/privacy") {
            "stage"
        } else if path.starts_with("/incidents") {
            "update"
        } else {
            "note"
        };
        let target = fill(path, &number, w.set_aside, action);
        let good = match form {
            Form::SignIn => sign_in_token(&w.app).await,
            _ => admin.csrf.clone(),
        };
        for (token, origin, case) in [
            (None, "http://localhost", "without a token"),
            (Some("0".repeat(64)), "http://localhost", "with a wrong token"),
            (Some(good.clone()), "https://evil.example", "from a foreign origin"),
        ] {
            let res = w.app.send(forged(form, &target, &admin, &good, token.as_deref(), origin)).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "POST {target} {case}");
        }
    }
    // Nothing happened: no note, the session still works.
    let t = w.app.state.desk.store().ticket_by_number(&w.gjovik.ticket).await.expect("q").expect("t");
    let events = w.app.state.desk.store().events_of(t.id).await.expect("events");
    assert!(events.iter().all(|e| e.kind != "note"), "no forged note");
    assert_eq!(w.app.get("/tickets", Some(&admin)).await.status(), StatusCode::OK, "no forged sign-out");
}

/// A fresh sign-in form's token (the value of its cookie).
async fn sign_in_token(app: &App) -> String {
    set_cookie(&app.get("/login", None).await, auth::LOGIN_COOKIE).expect("the form's token")
}

/// A POST as a cross-site page would send it: `token` as the form's token (none when `None`).
fn forged(form: Form, path: &str, s: &Session, good: &str, token: Option<&str>, origin: &str) -> Request<Body> {
    let cookie = match form {
        Form::SignIn => format!("{}={good}", auth::LOGIN_COOKIE),
        _ => format!("{}={}", auth::SESSION_COOKIE, s.cookie),
    };
    let req = Request::post(path)
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, origin)
        .header(header::COOKIE, cookie);
    let token_field = token.map(|t| format!("csrf={t}&")).unwrap_or_default();
    let (content_type, body) = match form {
        Form::SignIn => (
            "application/x-www-form-urlencoded".to_string(),
            format!("{token_field}username=admin&password={}&next=%2Ftickets", auth::urlencode(super::PASSWORD)),
        ),
        Form::Fields => (
            "application/x-www-form-urlencoded".to_string(),
            format!("{token_field}text=forged&stage=identified&status=resolved&class=access"),
        ),
        Form::Multipart => {
            let b = "forgedboundary";
            let csrf = token
                .map(|t| format!("--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{t}\r\n"))
                .unwrap_or_default();
            (
                format!("multipart/form-data; boundary={b}"),
                format!(
                    "{csrf}--{b}\r\nContent-Disposition: form-data; name=\"eml\"\r\n\r\nSubject: x\r\n\r\nx\r\n--{b}--\r\n"
                ),
            )
        }
    };
    req.header(header::CONTENT_TYPE, content_type).body(Body::from(body)).expect("request")
}
