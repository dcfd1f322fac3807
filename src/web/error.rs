//! What a failed request shows: people see a short, clear message in their language; the log
//! keeps the whole chain. A handler's error does not know the reader: it leaves what failed on the
//! response, and [`in_readers_language`] words the page once the request's language is known.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::desk::{ActionError, Refusal};
use crate::domain::UnknownValue;
use crate::text::lang::Lang;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("{0}")]
    BadRequest(Refusal),
    #[error("too many attempts; wait a few minutes and try again")]
    TooManyRequests,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ActionError> for WebError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::NotFound => WebError::NotFound,
            ActionError::Invalid(r) => WebError::BadRequest(r),
            ActionError::Other(e) => WebError::Internal(e),
        }
    }
}

/// A form value that names no known state or stage.
impl From<UnknownValue> for WebError {
    fn from(e: UnknownValue) -> Self {
        WebError::BadRequest(Refusal::UnknownValue(e))
    }
}

/// What failed, kept on the response until the page is worded.
#[derive(Debug, Clone)]
struct Failure {
    status: StatusCode,
    refusal: Option<Refusal>,
}

impl Failure {
    fn message(&self, lang: Lang) -> String {
        let nb = lang == Lang::Nb;
        match (&self.refusal, self.status) {
            (Some(r), _) => r.text(lang),
            (None, StatusCode::NOT_FOUND) if nb => "Finnes ikke".into(),
            (None, StatusCode::NOT_FOUND) => "Not found".into(),
            (None, StatusCode::FORBIDDEN) if nb => "Ingen tilgang".into(),
            (None, StatusCode::FORBIDDEN) => "Forbidden".into(),
            (None, StatusCode::TOO_MANY_REQUESTS) if nb => "For mange forsøk: vent noen minutter og prøv igjen".into(),
            (None, StatusCode::TOO_MANY_REQUESTS) => "Too many attempts: wait a few minutes and try again".into(),
            (None, _) if nb => "Noe gikk galt; feilen er logget".into(),
            (None, _) => "Something went wrong; it has been logged".into(),
        }
    }

    fn page(&self, lang: Lang) -> Response {
        let back = if lang == Lang::Nb { "Saker" } else { "Tickets" };
        let page = format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{code}</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
             <body><main class=\"error\"><h1>{code}</h1><p>{msg}</p><p><a href=\"/tickets\">← {back}</a></p></main></body></html>",
            lang = lang.code(),
            code = self.status.as_u16(),
            msg = askama::filters::escape(self.message(lang), askama::filters::Html)
                .map(|e| e.to_string())
                .unwrap_or_default()
        );
        let mut res = (self.status, axum::response::Html(page)).into_response();
        res.extensions_mut().insert(self.clone());
        res
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, refusal) = match self {
            WebError::NotFound => (StatusCode::NOT_FOUND, None),
            WebError::Forbidden => (StatusCode::FORBIDDEN, None),
            WebError::BadRequest(r) => (StatusCode::BAD_REQUEST, Some(r)),
            WebError::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, None),
            WebError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        };
        // Bokmål until the reader's language is known (see `in_readers_language`).
        Failure { status, refusal }.page(Lang::Nb)
    }
}

/// Words an error page in the language the reader chose (their cookie), bokmål by default.
pub async fn in_readers_language(req: Request, next: Next) -> Response {
    let lang = crate::web::auth::lang_of(req.headers());
    let res = next.run(req).await;
    match res.extensions().get::<Failure>() {
        Some(f) if lang != Lang::Nb => {
            let mut worded = f.clone().page(lang);
            // Whatever else the handler or inner layers set (security headers, every cookie) stays.
            for (name, value) in res.headers() {
                if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
                    worded.headers_mut().append(name.clone(), value.clone());
                }
            }
            worded
        }
        _ => res,
    }
}

pub type WebResult<T> = Result<T, WebError>;
