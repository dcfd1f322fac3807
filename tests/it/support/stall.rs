//! A TCP proxy that goes silent: once the server has sent a given byte string on a connection, it
//! stops forwarding in both directions — without closing anything, as a half-open connection or a
//! stuck middlebox would. Later connections are forwarded normally, or go silent at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// What connections after the first do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Later {
    Forward,
    /// Silent from the first byte: not even a greeting.
    Silent,
}

pub struct StallProxy {
    pub port: u16,
    /// Connections that went silent so far.
    pub stalled: Arc<AtomicUsize>,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicUsize>,
}

/// The first connection goes silent right after the server sends `trigger` (the trigger itself is
/// still forwarded).
pub async fn start(target_port: u16, trigger: &'static [u8], later: Later) -> StallProxy {
    start_n(target_port, trigger, 1, later).await
}

/// As [`start`], for each of the first `stalls` connections.
pub async fn start_n(target_port: u16, trigger: &'static [u8], stalls: usize, later: Later) -> StallProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let stalled = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let (s, a) = (stalled.clone(), accepted.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let n = a.fetch_add(1, Ordering::Relaxed) + 1;
            let stalled = s.clone();
            tokio::spawn(async move {
                if n > stalls && later == Later::Silent {
                    stalled.fetch_add(1, Ordering::Relaxed);
                    hold(client).await;
                    return;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else { return };
                let trigger = (n <= stalls).then_some(trigger);
                relay(client, server, trigger, stalled).await;
            });
        }
    });
    StallProxy { port, stalled, accepted }
}

/// Keeps a connection open and says nothing, for as long as the test runs.
async fn hold<T>(keep: T) {
    std::future::pending::<()>().await;
    drop(keep);
}

async fn relay(client: TcpStream, server: TcpStream, trigger: Option<&'static [u8]>, stalled: Arc<AtomicUsize>) {
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let silent = Arc::new(tokio::sync::Notify::new());
    let up = tokio::spawn(copy_up(cr, sw, silent.clone()));
    down(sr, cw, trigger, silent, stalled).await;
    let _ = up.await;
}

/// Client to server, until the connection goes silent; then it holds its halves open.
async fn copy_up(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, silent: Arc<tokio::sync::Notify>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            _ = silent.notified() => return hold((from, to)).await,
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(k) => if to.write_all(&buf[..k]).await.is_err() { return },
            },
        }
    }
}

/// Server to client, watching for the trigger.
async fn down(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    trigger: Option<&'static [u8]>,
    silent: Arc<tokio::sync::Notify>,
    stalled: Arc<AtomicUsize>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    // The end of what was forwarded, to find a trigger split across reads.
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let k = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(k) => k,
        };
        if let Some(t) = trigger {
            let mut seen = tail.clone();
            seen.extend_from_slice(&buf[..k]);
            if let Some(at) = seen.windows(t.len()).position(|w| w == t) {
                let upto = (at + t.len()).saturating_sub(tail.len()).min(k);
                let _ = to.write_all(&buf[..upto]).await;
                stalled.fetch_add(1, Ordering::Relaxed);
                silent.notify_one();
                return hold((from, to)).await;
            }
            tail = seen[seen.len().saturating_sub(t.len())..].to_vec();
        }
        if to.write_all(&buf[..k]).await.is_err() {
            return;
        }
    }
}
