//! Why a mail was set aside instead of becoming a ticket, as data: kept with the mail (JSON) and
//! worded when read, in the reader's language. Mail set aside before this holds English text,
//! shown as it is.

use serde::{Deserialize, Serialize};

use crate::pipeline::ignore::Ignored;
use crate::pipeline::parse::ParseError;
use crate::pipeline::reason::ignore_name;
use crate::text::lang::Lang;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "set-aside", rename_all = "kebab-case")]
pub enum SetAside {
    /// A robot's mail: an auto-reply, a bounce, bulk mail, a read receipt, calendar mail (stored
    /// with the robot's kind and evidence beside the tag).
    Robot(Ignored),
    /// Our own mail coming back (loop protection).
    OwnMail,
    /// The mail could not be read.
    Unreadable { error: ParseError },
    /// Too large to fetch: only its header was, and the original stays on the server.
    TooLargeToFetch { size: u64, limit: u64, kept_in: String },
}

/// How stored reasons begin, for the queries that count loops (serde writes the tag first, then
/// the fields in order). Reasons stored before they were data begin with the English words.
pub const STORED_OWN_MAIL: &str = r#"{"set-aside":"own-mail""#;
pub const STORED_AUTO_REPLY: &str = r#"{"set-aside":"robot","kind":"auto-reply""#;

impl SetAside {
    pub fn to_stored(&self) -> String {
        crate::text::stored::to_stored(self)
    }

    /// For logs and callers that match on the kind: `auto-reply (Auto-Submitted: auto-replied)`.
    pub fn log_text(&self) -> String {
        match self {
            SetAside::Robot(ignored) => ignored.reason(),
            other => other.text(Lang::En),
        }
    }

    pub fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (SetAside::Robot(i), _) => format!("{} ({})", ignore_name(i.kind, lang), i.evidence.text(lang)),
            (SetAside::OwnMail, Lang::Nb) => "vår egen e-post som kom tilbake (vern mot e-postløkker)".into(),
            (SetAside::OwnMail, Lang::En) => "own mail coming back (loop protection)".into(),
            (SetAside::Unreadable { error }, _) => error.text(lang),
            (SetAside::TooLargeToFetch { size, limit, kept_in }, Lang::Nb) => {
                format!("e-posten er {size} byte; grensen er {limit} (ligger igjen på serveren i {kept_in})")
            }
            (SetAside::TooLargeToFetch { size, limit, kept_in }, Lang::En) => {
                format!("the message is {size} bytes; the limit is {limit} (kept on the server in {kept_in})")
            }
        }
    }
}

/// A set-aside mail's stored reason for a reader: worded in `lang`, or as written when it was
/// stored before reasons were data (or is someone else's words, such as a server's error).
pub fn stored_text(stored: &str, lang: Lang) -> String {
    crate::text::stored::from_stored::<SetAside>(stored).map_or_else(|| stored.to_string(), |why| why.text(lang))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::ignore::{Evidence, IgnoreKind};

    #[test]
    fn stored_reasons_begin_as_the_loop_queries_expect_and_read_back() {
        let auto = SetAside::Robot(Ignored {
            kind: IgnoreKind::AutoReply,
            evidence: Evidence::Header { text: "Auto-Submitted: auto-replied".into() },
        });
        assert!(auto.to_stored().starts_with(STORED_AUTO_REPLY), "{}", auto.to_stored());
        assert!(SetAside::OwnMail.to_stored().starts_with(STORED_OWN_MAIL));
        let all = [
            auto,
            SetAside::OwnMail,
            SetAside::Unreadable { error: ParseError::TooManyParts { limit: 500 } },
            SetAside::Unreadable { error: ParseError::ReaderFailed { detail: "index out of bounds".into() } },
            SetAside::TooLargeToFetch { size: 30_000_000, limit: 26_214_400, kept_in: "Processed".into() },
        ];
        for why in all {
            for lang in Lang::ALL {
                assert_eq!(stored_text(&why.to_stored(), lang), why.text(lang));
            }
            assert_ne!(why.text(Lang::Nb), why.text(Lang::En), "{why:?}");
        }
        assert_eq!(stored_text("bounce (sender mailer-daemon)", Lang::Nb), "bounce (sender mailer-daemon)");
    }
}
