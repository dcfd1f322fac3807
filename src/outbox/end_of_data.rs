//! Whether the end of a mail's DATA (`CRLF . CRLF`) went out on a session. A session lost after
//! it may have delivered the mail — only the server's 250 did not come back — so the mail is sent
//! again, with its same Message-ID, and marked as possibly arrived twice; lost before it, the
//! server has nothing and the retry is an ordinary one. (Lines starting with a dot are doubled in
//! DATA, so the sequence can only be the end.)

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use lettre::transport::smtp::client::AsyncTokioStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const END: &[u8] = b"\r\n.\r\n";

/// A session's stream that notes when the end of DATA is written.
#[derive(Debug)]
pub struct Watched {
    inner: Box<dyn AsyncTokioStream>,
    ended: Arc<AtomicBool>,
    seen: EndSeen,
}

impl Watched {
    pub fn new(inner: Box<dyn AsyncTokioStream>, ended: Arc<AtomicBool>) -> Watched {
        Watched { inner, ended, seen: EndSeen::default() }
    }
}

/// Looks for the end of DATA in what is written, also when it is split over two writes.
#[derive(Debug, Default)]
struct EndSeen {
    /// The last bytes written.
    tail: Vec<u8>,
}

impl EndSeen {
    fn saw(&mut self, written: &[u8]) -> bool {
        self.tail.extend_from_slice(&written[written.len().saturating_sub(END.len())..]);
        let seen = written.windows(END.len()).any(|w| w == END) || self.tail.windows(END.len()).any(|w| w == END);
        let keep = self.tail.len().saturating_sub(END.len() - 1);
        self.tail.drain(..keep);
        seen
    }
}

impl AsyncTokioStream for Watched {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.inner.peer_addr()
    }
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &result
            && this.seen.saw(&buf[..*n])
        {
            this.ended.store(true, Ordering::Release);
        }
        result
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::EndSeen;

    #[test]
    fn the_end_is_seen_whole_or_split_and_nothing_else_is() {
        let mut w = EndSeen::default();
        assert!(!w.saw(b"MAIL FROM:<a@b>\r\nDATA\r\nSubject: x\r\n\r\n..dot-stuffed line\r\n"), "a doubled dot");
        assert!(!w.saw(b"last line\r\n."));
        assert!(w.saw(b"\r\n"), "the end split over two writes");
        assert!(EndSeen::default().saw(b"body\r\n.\r\n"), "the end in one write");
        let mut w = EndSeen::default();
        let seen: Vec<bool> = b"x\r\n.\r\n".iter().map(|b| w.saw(std::slice::from_ref(b))).collect();
        assert_eq!(seen.iter().filter(|s| **s).count(), 1, "byte by byte: {seen:?}");
    }
}
