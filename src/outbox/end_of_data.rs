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
    /// The last bytes written, for an end split over two writes.
    tail: Vec<u8>,
}

impl Watched {
    pub fn new(inner: Box<dyn AsyncTokioStream>, ended: Arc<AtomicBool>) -> Watched {
        Watched { inner, ended, tail: Vec::with_capacity(END.len() * 2) }
    }

    fn saw(&mut self, written: &[u8]) {
        self.tail.extend_from_slice(&written[written.len().saturating_sub(END.len())..]);
        let seen = written.windows(END.len()).any(|w| w == END) || self.tail.windows(END.len()).any(|w| w == END);
        if seen {
            self.ended.store(true, Ordering::Release);
        }
        let keep = self.tail.len().saturating_sub(END.len() - 1);
        self.tail.drain(..keep);
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
        if let Poll::Ready(Ok(n)) = &result {
            this.saw(&buf[..*n]);
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
    use super::*;

    fn watched() -> (Watched, Arc<AtomicBool>) {
        let ended = Arc::new(AtomicBool::new(false));
        let (a, _b) = tokio::io::duplex(64);
        (Watched::new(Box::new(Duplex(a)), ended.clone()), ended)
    }

    #[derive(Debug)]
    struct Duplex(tokio::io::DuplexStream);
    impl AsyncTokioStream for Duplex {
        fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
            Err(std::io::Error::other("in memory"))
        }
    }
    impl AsyncRead for Duplex {
        fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
        }
    }
    impl AsyncWrite for Duplex {
        fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
        }
        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.get_mut().0).poll_flush(cx)
        }
        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
        }
    }

    #[test]
    fn the_end_is_seen_whole_or_split_and_nothing_else_is() {
        let (mut w, ended) = watched();
        w.saw(b"MAIL FROM:<a@b>\r\nDATA\r\nSubject: x\r\n\r\n..dot-stuffed line\r\n");
        assert!(!ended.load(Ordering::Acquire), "a doubled dot is not the end");
        w.saw(b"last line\r\n.");
        assert!(!ended.load(Ordering::Acquire));
        w.saw(b"\r\n");
        assert!(ended.load(Ordering::Acquire), "the end split over two writes");
        let (mut w, ended) = watched();
        w.saw(b"body\r\n.\r\n");
        assert!(ended.load(Ordering::Acquire), "the end in one write");
        let (mut w, ended) = watched();
        for b in b"x\r\n.\r\n" {
            w.saw(std::slice::from_ref(b));
        }
        assert!(ended.load(Ordering::Acquire), "byte by byte");
    }
}
