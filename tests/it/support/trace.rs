//! A TCP proxy that writes down what the client sends, line by line with the time it came, and —
//! while the client idles (after the server's `+ idling`) — sends the client an untagged
//! `* OK Still here` every `keepalive`, as Dovecot does every two minutes. A client that restarted
//! its idle timer on each keepalive would never leave IDLE through this proxy.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

pub struct TraceProxy {
    pub port: u16,
    /// Each line the client sent, with when it came through.
    pub lines: Arc<Mutex<Vec<(Instant, String)>>>,
    pub keepalives: Arc<AtomicUsize>,
    pub accepted: Arc<AtomicUsize>,
}

impl TraceProxy {
    /// When the client sent lines ending in `command` (`IDLE`, `DONE`), in order.
    pub fn times_of(&self, command: &str) -> Vec<Instant> {
        let lines = self.lines.lock().expect("trace lock");
        lines.iter().filter(|(_, l)| l.trim_end().ends_with(command)).map(|(t, _)| *t).collect()
    }
}

pub async fn start(target_port: u16, keepalive: Duration) -> TraceProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let proxy = TraceProxy { port, lines: Arc::default(), keepalives: Arc::default(), accepted: Arc::default() };
    let (lines, keepalives, accepted) = (proxy.lines.clone(), proxy.keepalives.clone(), proxy.accepted.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::Relaxed);
            let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else { continue };
            tokio::spawn(relay(client, server, lines.clone(), keepalives.clone(), keepalive));
        }
    });
    proxy
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    keepalives: Arc<AtomicUsize>,
    every: Duration,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let idling = Arc::new(AtomicBool::new(false));
    let client_idling = idling.clone();
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut pending = Vec::new();
        while let Ok(n) = cr.read(&mut buf).await {
            if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
            pending.extend_from_slice(&buf[..n]);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line).into_owned();
                if line.trim_end().eq_ignore_ascii_case("DONE") {
                    client_idling.store(false, Ordering::Relaxed);
                }
                lines.lock().expect("trace lock").push((Instant::now(), line));
            }
        }
    });
    let mut buf = vec![0u8; 16 * 1024];
    let mut at_line_start = true;
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            r = sr.read(&mut buf) => {
                let Ok(n) = r else { break };
                if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                if buf[..n].windows(8).any(|w| w == b"+ idling") {
                    idling.store(true, Ordering::Relaxed);
                }
                at_line_start = buf[n - 1] == b'\n';
            }
            _ = tick.tick() => {
                // Only between whole lines, so a keepalive never splits a server response.
                if idling.load(Ordering::Relaxed) && at_line_start {
                    if cw.write_all(b"* OK Still here\r\n").await.is_err() {
                        break;
                    }
                    keepalives.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    up.abort();
}
