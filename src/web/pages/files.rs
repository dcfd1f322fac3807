//! A ticket's files: the original as sent (a download, or shown inline when it is a picture the
//! browser shows) and a thumbnail of each picture for the ticket page.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::ticket::visible;
use crate::pipeline::parse::parts::image_info;
use crate::web::AppState;
use crate::web::audit::{self, Action};
use crate::web::auth::Staff;
use crate::web::error::{WebError, WebResult};
use crate::web::thumbnail::{self, NoThumbnail};

#[derive(Deserialize)]
pub struct FileQuery {
    inline: Option<String>,
}

/// A ticket's file. Only a raster image whose bytes say so, in a format browsers show, is shown
/// inline; everything else — SVG, HTML and TIFF or HEIC photos included — is a download.
pub async fn file(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, id)): Path<(String, i64)>,
    Query(q): Query<FileQuery>,
) -> WebResult<Response> {
    let t = visible(&state, &staff, &number).await?;
    let f = state.desk.store().ticket_file(t.id, id).await?.ok_or(WebError::NotFound)?;
    audit::by(&state, &staff, Action::ViewFile, &format!("{number}/files/{id}"), "ok").await?;
    let raster = image_info(&f.data).map(|i| i.format).filter(|f| thumbnail::browser_shows(f));
    let name = f.filename.as_deref().map_or_else(|| "vedlegg".into(), file_name);
    let (content_type, disposition) = match (raster, q.inline.is_some()) {
        (Some(format), true) => (format!("image/{format}"), content_disposition("inline", &name)),
        _ => ("application/octet-stream".to_string(), content_disposition("attachment", &name)),
    };
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_string()),
    ];
    Ok((headers, f.data).into_response())
}

/// A picture's thumbnail for the ticket page (not audited on its own: the page that shows it is).
/// Where none can be made — HEIC, JPEG XL, a broken or oversized picture — a stand-in in the
/// reader's language says so; the original stays a download. Like every page it is not cached
/// (`no-store`): an erased file or a withdrawn access must not live on in a browser.
pub async fn thumbnail(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, id)): Path<(String, i64)>,
) -> WebResult<Response> {
    let t = visible(&state, &staff, &number).await?;
    let f = state.desk.store().ticket_file(t.id, id).await?.ok_or(WebError::NotFound)?;
    let Some(info) = image_info(&f.data) else { return Err(WebError::NotFound) };
    let data = f.data;
    let made = tokio::task::spawn_blocking(move || thumbnail::make(&data, info.format).map_err(|e| (e, data)))
        .await
        .map_err(|e| WebError::from(anyhow::anyhow!("making a thumbnail: {e}")))?;
    let (content_type, body) = match made {
        Ok(t) => (t.content_type.to_string(), t.data),
        Err((NoThumbnail::BrowserShows, original)) => (format!("image/{}", info.format), original),
        Err((e, _)) => {
            tracing::info!(ticket = %number, file = id, "no thumbnail: {e}");
            let words = super::Chrome::of(&staff).t.no_preview;
            ("image/svg+xml".to_string(), thumbnail::placeholder(words, info.format).into_bytes())
        }
    };
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_string()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
    ];
    Ok((headers, body).into_response())
}

/// The characters `filename*` keeps as they are (RFC 8187 `attr-char`); the rest is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// A file's name as shown and saved: the last part of any path, without control characters or
/// bidirectional controls (which make `faktura\u{202E}fdp.exe` read as `fakturaexe.pdf`), no
/// leading dots, at most 150 characters.
pub fn file_name(sent: &str) -> String {
    let bidi =
        |c: char| matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    let last = sent.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last.chars().filter(|&c| !c.is_control() && !bidi(c)).take(150).collect();
    let kept = kept.trim().trim_start_matches('.').trim_start();
    if kept.is_empty() { "vedlegg".into() } else { kept.to_string() }
}

/// `Content-Disposition` per RFC 6266: an ASCII stand-in in `filename` for old clients, and the
/// name itself, UTF-8 and percent-encoded, in `filename*`. Neither can end the quoted string or
/// the header.
pub fn content_disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c == ' ' || (c.is_ascii_graphic() && !"\"\\%".contains(c)) { c } else { '_' })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}", utf8_percent_encode(name, ATTR_CHAR))
}
