//! What a failed request shows: people see a short, clear message; the log keeps the whole chain.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::desk::ActionError;
use crate::domain::UnknownValue;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("{0}")]
    BadRequest(String),
    #[error("too many attempts; wait a few minutes and try again")]
    TooManyRequests,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ActionError> for WebError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::NotFound => WebError::NotFound,
            ActionError::Invalid(m) => WebError::BadRequest(m),
            ActionError::Other(e) => WebError::Internal(e),
        }
    }
}

/// A form value that names no known state or stage.
impl From<UnknownValue> for WebError {
    fn from(e: UnknownValue) -> Self {
        WebError::BadRequest(e.to_string())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, text) = match &self {
            WebError::NotFound => (StatusCode::NOT_FOUND, "Finnes ikke / Not found".to_string()),
            WebError::Forbidden => (StatusCode::FORBIDDEN, "Ingen tilgang / Forbidden".to_string()),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            WebError::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, self.to_string()),
            WebError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Noe gikk galt; feilen er logget / Something went wrong; it has been logged".to_string(),
                )
            }
        };
        let page = format!(
            "<!doctype html><html lang=\"nb\"><head><meta charset=\"utf-8\"><title>{code}</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
             <body><main class=\"error\"><h1>{code}</h1><p>{msg}</p><p><a href=\"/tickets\">← Saker</a></p></main></body></html>",
            code = status.as_u16(),
            msg = askama::filters::escape(text, askama::filters::Html).map(|e| e.to_string()).unwrap_or_default()
        );
        (status, axum::response::Html(page)).into_response()
    }
}

pub type WebResult<T> = Result<T, WebError>;
