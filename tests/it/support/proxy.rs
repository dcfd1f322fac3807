//! A small TCP proxy for tests that must cut a connection in the middle of a command: it forwards
//! both ways and, for the first `cuts` connections, drops them once the server has sent `after`
//! bytes (optionally holding the connection silent for a while first, so that the cuts take the
//! same time on a fast machine as on a loaded one).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

pub struct Proxy {
    pub port: u16,
    pub cut: Arc<AtomicUsize>,
}

pub async fn start(target_port: u16, cuts: usize, after: usize) -> Proxy {
    spawn(target_port, cuts, after, Duration::ZERO, &[]).await
}

/// As [`start`], with the connection held silent for `hold` before each cut.
pub async fn start_holding(target_port: u16, cuts: usize, after: usize, hold: Duration) -> Proxy {
    spawn(target_port, cuts, after, hold, &[]).await
}

/// As [`start`], and also replaces byte strings in what the server sends (same length each), e.g.
/// to hide capabilities: `("IDLE", "XDLE")`.
pub async fn start_with(
    target_port: u16,
    cuts: usize,
    after: usize,
    rewrite: &[(&'static str, &'static str)],
) -> Proxy {
    spawn(target_port, cuts, after, Duration::ZERO, rewrite).await
}

async fn spawn(
    target_port: u16,
    cuts: usize,
    after: usize,
    hold: Duration,
    rewrite: &[(&'static str, &'static str)],
) -> Proxy {
    let rewrite: Vec<(&'static str, &'static str)> = rewrite.to_vec();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let cut = Arc::new(AtomicUsize::new(0));
    let counter = cut.clone();
    tokio::spawn(async move {
        let mut n = 0usize;
        while let Ok((client, _)) = listener.accept().await {
            n += 1;
            let limit = (n <= cuts).then_some(after);
            let counter = counter.clone();
            let rewrite = rewrite.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else { return };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut cr, &mut sw).await;
                });
                let mut sent = 0usize;
                let mut buf = vec![0u8; 4096];
                while let Ok(k) = sr.read(&mut buf).await {
                    if k == 0 {
                        break;
                    }
                    let k = match limit {
                        Some(l) if sent + k > l => {
                            // Forward up to the limit, then cut both directions mid-response.
                            let part = l.saturating_sub(sent);
                            let _ = cw.write_all(&buf[..part]).await;
                            tokio::time::sleep(hold).await;
                            counter.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        _ => k,
                    };
                    for (from, to) in &rewrite {
                        replace(&mut buf[..k], from.as_bytes(), to.as_bytes());
                    }
                    if cw.write_all(&buf[..k]).await.is_err() {
                        break;
                    }
                    sent += k;
                }
                up.abort();
            });
        }
    });
    Proxy { port, cut }
}

fn replace(buf: &mut [u8], from: &[u8], to: &[u8]) {
    debug_assert_eq!(from.len(), to.len());
    let mut i = 0;
    while i + from.len() <= buf.len() {
        if &buf[i..i + from.len()] == from {
            buf[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}
