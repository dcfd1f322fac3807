//! Sending reports to the rig and reading what routedesk sent, over real SMTP and IMAP.

use base64::Engine as _;
use futures_util::TryStreamExt as _;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor, address::Envelope};
use mail_parser::{MessageParser, MimeHeaders as _};

use super::rig;

/// The signature and IHDR of a PNG of the given size: what image header readers look at.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    v.extend_from_slice(&width.to_be_bytes());
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde]);
    v
}

/// `data` in base64 as a mail body carries it: lines of 76 characters (RFC 2045).
pub fn base64_lines(data: &[u8]) -> String {
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    text.as_bytes().chunks(76).map(String::from_utf8_lossy).collect::<Vec<_>>().join("\r\n")
}

/// A fault report as a mail client would send it.
pub struct Report<'a> {
    pub from_name: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub subject: String,
    pub body: String,
    pub screenshot: bool,
    /// The screenshot's bytes; a PNG header of 1280×800 when `None`.
    pub screenshot_png: Option<Vec<u8>>,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub extra_headers: Vec<(&'static str, String)>,
}

pub const SIGNATURE: &str =
    "\n\nMvh\nRandi Kristiansen\nLønningskontoret, Gjøvik kommune\nDir. tlf. 61 18 97 26 – Mobil 928 41 377\n";

impl<'a> Report<'a> {
    /// A complete application-fault report from Gjøvik, tagged with `token` in the subject.
    pub fn complete(token: &str, to: &'a str) -> Report<'a> {
        Report {
            from_name: "Randi Kristiansen",
            from: "randi.kristiansen@gjovik.kommune.no",
            to,
            subject: format!("{token} Feil ved lønnskjøring: lønnsart 1120 beregnes ikke"),
            body: format!(
                "Hei,\n\nLønnskjøringen for november gir feil beløp på lønnsart 1120. Se skjermbilde.{SIGNATURE}"
            ),
            screenshot: true,
            screenshot_png: None,
            message_id: format!("{token}@gjovik.kommune.no"),
            in_reply_to: None,
            extra_headers: vec![],
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let from: Mailbox = format!("{} <{}>", self.from_name, self.from).parse().expect("valid from");
        let mut b = Message::builder()
            .from(from)
            .to(self.to.parse().expect("valid to"))
            .subject(&self.subject)
            .message_id(Some(format!("<{}>", self.message_id)));
        if let Some(parent) = &self.in_reply_to {
            b = b.in_reply_to(format!("<{parent}>")).references(format!("<{parent}>"));
        }
        for (name, value) in &self.extra_headers {
            b = b.raw_header(lettre::message::header::HeaderValue::new(
                lettre::message::header::HeaderName::new_from_ascii_str(name),
                value.clone(),
            ));
        }
        let text = SinglePart::plain(self.body.clone());
        let m = if self.screenshot {
            let img = Attachment::new("Skjermbilde.png".into()).body(
                self.screenshot_png.clone().unwrap_or_else(|| png(1280, 800)),
                ContentType::parse("image/png").expect("ct"),
            );
            b.multipart(MultiPart::mixed().singlepart(text).singlepart(img))
        } else {
            b.singlepart(text)
        };
        m.expect("report builds").formatted()
    }
}

/// Sends raw mail through the rig's SMTP server.
pub async fn send(raw: &[u8], from: &str, to: &str) {
    let rig = rig::ensure();
    let t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(rig.smtp_port).build();
    let env = Envelope::new(Some(from.parse().expect("from")), vec![to.parse().expect("to")]).expect("envelope");
    t.send_raw(&env, raw).await.expect("the rig accepts the mail");
}

pub type Session = async_imap::Session<tokio::net::TcpStream>;

pub async fn login(address: &str) -> Session {
    let rig = rig::ensure();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", rig.imap_port)).await.expect("IMAP connects");
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.expect("greeting").expect("greeting");
    client.login(address, &rig.password).await.map_err(|(e, _)| e).expect("IMAP login")
}

/// Puts a mail straight into a mailbox folder (IMAP APPEND), bypassing SMTP.
pub async fn append(address: &str, folder: &str, raw: &[u8]) {
    let mut s = login(address).await;
    let _ = s.create(folder).await;
    s.append(folder, None, None, raw).await.expect("APPEND");
    let _ = s.logout().await;
}

/// A mail as received, parsed.
#[derive(Debug, Clone)]
pub struct Received {
    pub subject: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub message_id: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub text: String,
    pub auto_submitted: Option<String>,
    pub auto_response_suppress: Option<String>,
    /// The envelope sender, as the rig's Dovecot wrote it on delivery (`<>` for a null sender).
    pub return_path: Option<String>,
    /// `(content type, file name, size)`
    pub attachments: Vec<(String, Option<String>, usize)>,
}

/// Every mail in a folder of `address` (nothing is marked read). A folder that does not exist
/// (yet) is empty; any other IMAP error fails the test, so "nothing arrived" never means "could
/// not look".
pub async fn folder(address: &str, folder: &str) -> Vec<Received> {
    let mut s = login(address).await;
    match s.select(folder).await {
        Ok(_) => {}
        Err(async_imap::error::Error::No(why)) if why.to_lowercase().contains("exist") => {
            let _ = s.logout().await;
            return vec![];
        }
        Err(e) => panic!("cannot select {folder} of {address}: {e}"),
    }
    let fetches: Vec<_> = match s.uid_fetch("1:*", "BODY.PEEK[]").await {
        Ok(stream) => stream.try_collect().await.expect("FETCH completes"),
        // An empty folder answers `1:*` with a NO on some servers.
        Err(async_imap::error::Error::No(_)) => vec![],
        Err(e) => panic!("cannot fetch {folder} of {address}: {e}"),
    };
    let _ = s.logout().await;
    fetches.iter().filter_map(|f| f.body()).map(parse).collect()
}

/// The Message-ID of every mail in `address`'s inbox, without angle brackets: twice for a mail
/// that arrived twice. One FETCH of that header alone, so ten thousand mails take a second, not
/// the minutes their bodies would.
pub async fn message_ids(address: &str) -> Vec<String> {
    let mut s = login(address).await;
    let inbox = s.examine("INBOX").await.unwrap_or_else(|e| panic!("cannot examine the inbox of {address}: {e}"));
    // `1:*` of an empty folder is an error on some servers.
    if inbox.exists == 0 {
        let _ = s.logout().await;
        return vec![];
    }
    let fetches = uid_fetch(&mut s, "1:*", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]", address).await;
    let _ = s.logout().await;
    let parser = MessageParser::default();
    fetches
        .iter()
        .map(|f| {
            let header = f.header().unwrap_or_else(|| panic!("FETCH in {address} gave no header"));
            let m = parser.parse_headers(header).unwrap_or_else(|| panic!("a header of {address} parses"));
            m.message_id().unwrap_or_default().to_string()
        })
        .collect()
}

/// Waits until the helpdesk folder of `address` is empty: every mail in it handled and moved out.
pub async fn inbox_emptied(address: &str, wait: std::time::Duration) {
    super::eventually("the inbox emptied", wait, || async { folder(address, "INBOX").await.is_empty().then_some(()) })
        .await;
}

pub async fn inbox(address: &str) -> Vec<Received> {
    folder(address, "INBOX").await
}

/// Mail in `address`'s inbox whose subject contains `token`, found by the server (IMAP SEARCH), so
/// a mailbox that many test runs have filled costs no more than an empty one.
pub async fn inbox_with(address: &str, token: &str) -> Vec<Received> {
    let mut s = login(address).await;
    s.select("INBOX").await.unwrap_or_else(|e| panic!("cannot select the inbox of {address}: {e}"));
    let query = format!("SUBJECT \"{}\"", token.replace(['"', '\\'], ""));
    let mut uids: Vec<u32> =
        s.uid_search(&query).await.unwrap_or_else(|e| panic!("SEARCH in {address}: {e}")).into_iter().collect();
    uids.sort_unstable();
    let fetches: Vec<_> = if uids.is_empty() {
        vec![]
    } else {
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        uid_fetch(&mut s, &set, "BODY.PEEK[]", address).await
    };
    let _ = s.logout().await;
    // The server's match is a first cut; the subject as decoded decides.
    fetches.iter().filter_map(|f| f.body()).map(parse).filter(|m| m.subject.contains(token)).collect()
}

/// UID FETCH of `set`; any error fails the test, naming `place` (a mailbox or folder).
async fn uid_fetch(s: &mut Session, set: &str, query: &str, place: &str) -> Vec<async_imap::types::Fetch> {
    s.uid_fetch(set, query)
        .await
        .unwrap_or_else(|e| panic!("FETCH in {place}: {e}"))
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("FETCH in {place}: {e}"))
}

fn parse(raw: &[u8]) -> Received {
    let m = MessageParser::default().parse(raw).expect("routedesk's mail parses");
    let addrs = |a: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        a.map(|a| a.iter().filter_map(|x| x.address().map(str::to_lowercase)).collect()).unwrap_or_default()
    };
    let ids = |v: &mail_parser::HeaderValue<'_>| match v {
        mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
        mail_parser::HeaderValue::TextList(l) => l.iter().map(|s| s.to_string()).collect(),
        _ => vec![],
    };
    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_string());
    Received {
        subject: m.subject().unwrap_or_default().to_string(),
        to: addrs(m.to()),
        cc: addrs(m.cc()),
        message_id: m.message_id().unwrap_or_default().to_string(),
        in_reply_to: ids(m.in_reply_to()),
        references: ids(m.references()),
        text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        auto_submitted: header("Auto-Submitted"),
        auto_response_suppress: header("X-Auto-Response-Suppress"),
        return_path: header("Return-Path"),
        attachments: m
            .attachments()
            .map(|p| {
                let ct = p
                    .content_type()
                    .map(|c| format!("{}/{}", c.c_type, c.c_subtype.as_deref().unwrap_or("")))
                    .unwrap_or_default();
                (ct.to_lowercase(), p.attachment_name().map(str::to_string), p.contents().len())
            })
            .collect(),
    }
}

/// Every mail in every folder of `address`, raw, with its folder's name (nothing is marked read).
pub async fn every_mail(address: &str) -> Vec<(String, Vec<u8>)> {
    let mut s = login(address).await;
    let names: Vec<String> = s
        .list(Some(""), Some("*"))
        .await
        .expect("LIST")
        .try_collect::<Vec<_>>()
        .await
        .expect("LIST completes")
        .iter()
        .map(|n| n.name().to_string())
        .collect();
    let mut out = Vec::new();
    for name in names {
        let folder = s.examine(&name).await.unwrap_or_else(|e| panic!("cannot examine {name} of {address}: {e}"));
        if folder.exists == 0 {
            continue;
        }
        let fetches = uid_fetch(&mut s, "1:*", "BODY.PEEK[]", &name).await;
        out.extend(fetches.iter().filter_map(|f| f.body()).map(|b| (name.clone(), b.to_vec())));
    }
    let _ = s.logout().await;
    out
}

/// Deletes and re-creates a folder, which gives it a new UIDVALIDITY.
pub async fn recreate_folder(address: &str, folder: &str) {
    let mut s = login(address).await;
    s.delete(folder).await.expect("DELETE");
    s.create(folder).await.expect("CREATE");
    let _ = s.logout().await;
}

/// A real, drawable PNG screenshot (from the fixture corpus).
pub fn real_screenshot() -> Vec<u8> {
    let raw = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports/01-gjovik-lonn-complete.eml"),
    )
    .expect("fixture");
    let m = MessageParser::default().parse(&raw).expect("fixture parses");
    m.attachments()
        .find(|p| p.attachment_name() == Some("Skjermbilde.png"))
        .expect("the fixture has a screenshot")
        .contents()
        .to_vec()
}

/// Sends many mails over one SMTP connection (as a busy mail server would hand them on).
pub async fn send_many(mails: &[(String, Vec<u8>)], to: &str) {
    let rig = rig::ensure();
    let t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(rig.smtp_port).build();
    for (from, raw) in mails {
        let env = Envelope::new(Some(from.parse().expect("from")), vec![to.parse().expect("to")]).expect("envelope");
        t.send_raw(&env, raw).await.expect("the rig accepts the mail");
    }
}

/// Puts a mail into a folder with `flags` set (e.g. `(\Deleted)`: flagged by another client).
pub async fn append_flagged(address: &str, folder: &str, raw: &[u8], flags: &str) {
    let mut s = login(address).await;
    let _ = s.create(folder).await;
    s.append(folder, Some(flags), None, raw).await.expect("APPEND");
    let _ = s.logout().await;
}

/// Moves the mails whose Message-ID contains `token` from one folder to another, as a person in
/// a mail client would; returns how many.
pub async fn move_by_message_id(address: &str, from: &str, to: &str, token: &str) -> usize {
    let mut s = login(address).await;
    s.select(from).await.expect("SELECT");
    let uids = s.uid_search(format!("HEADER Message-ID \"{token}\"")).await.expect("SEARCH");
    if !uids.is_empty() {
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        s.uid_mv(&set, to).await.expect("MOVE");
    }
    let _ = s.logout().await;
    uids.len()
}

/// Puts many mails into a folder over one IMAP session (a backlog in seconds).
pub async fn append_all(address: &str, folder: &str, mails: &[Vec<u8>]) {
    let mut s = login(address).await;
    let _ = s.create(folder).await;
    for raw in mails {
        s.append(folder, None, None, raw).await.expect("APPEND");
    }
    let _ = s.logout().await;
}

/// How many mails of a folder carry `\Seen` (a mail read, by us or a person).
pub async fn seen(address: &str, folder: &str) -> usize {
    let mut s = login(address).await;
    s.select(folder).await.unwrap_or_else(|e| panic!("cannot select {folder} of {address}: {e}"));
    let n = s.uid_search("SEEN").await.expect("SEARCH").len();
    let _ = s.logout().await;
    n
}

/// The mail with this Message-ID (without brackets) in `address`'s inbox, if it is there.
pub async fn inbox_by_message_id(address: &str, message_id: &str) -> Option<Received> {
    let mut s = login(address).await;
    s.select("INBOX").await.unwrap_or_else(|e| panic!("cannot select the inbox of {address}: {e}"));
    let uids = s.uid_search(format!("HEADER Message-ID \"{message_id}\"")).await.expect("SEARCH");
    let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let found = if set.is_empty() { vec![] } else { uid_fetch(&mut s, &set, "BODY.PEEK[]", address).await };
    let _ = s.logout().await;
    found.iter().filter_map(|f| f.body()).map(parse).find(|m| m.message_id == message_id)
}

/// The raw bytes of the mail with this Message-ID in a folder of `address`.
pub async fn raw_by_message_id(address: &str, folder: &str, message_id: &str) -> Vec<u8> {
    let mut s = login(address).await;
    s.examine(folder).await.unwrap_or_else(|e| panic!("cannot examine {folder} of {address}: {e}"));
    let uids = s.uid_search(format!("HEADER Message-ID \"{message_id}\"")).await.expect("SEARCH");
    let uid = uids.into_iter().next().unwrap_or_else(|| panic!("{message_id} is in {folder} of {address}"));
    let fetches: Vec<_> =
        s.uid_fetch(uid.to_string(), "BODY.PEEK[]").await.expect("FETCH").try_collect().await.expect("FETCH");
    let _ = s.logout().await;
    fetches.iter().find_map(|f| f.body()).expect("the mail's body").to_vec()
}
