//! An SMTP proxy that loses the server's answer to the end of a mail: on the first connection,
//! once the client has sent `CRLF . CRLF` (and the server has it), the server's 250 is read and
//! thrown away and the client's connection closed — the mail delivered, the sender never told.
//! Later connections are forwarded as they are.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

pub struct LoseAnswer {
    pub port: u16,
    /// Answers thrown away so far.
    pub lost: Arc<AtomicUsize>,
}

pub async fn start(target_port: u16) -> LoseAnswer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let lost = Arc::new(AtomicUsize::new(0));
    let counter = lost.clone();
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await else { continue };
            let cut = std::mem::replace(&mut first, false);
            tokio::spawn(relay(client, server, cut, counter.clone()));
        }
    });
    LoseAnswer { port, lost }
}

async fn relay(client: TcpStream, server: TcpStream, cut: bool, lost: Arc<AtomicUsize>) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let (ended_tx, mut ended_rx) = tokio::sync::watch::channel(false);
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut tail: Vec<u8> = Vec::new();
        while let Ok(n) = cr.read(&mut buf).await {
            if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
            tail.extend_from_slice(&buf[..n]);
            if cut && tail.windows(5).any(|w| w == b"\r\n.\r\n") {
                let _ = ended_tx.send(true);
                // The server keeps its side until it has answered; the client hears nothing more.
                let _ = sw.flush().await;
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                return;
            }
            let keep = tail.len().saturating_sub(4);
            tail.drain(..keep);
        }
    });
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            r = sr.read(&mut buf) => {
                let Ok(n) = r else { break };
                if n == 0 {
                    break;
                }
                if *ended_rx.borrow() {
                    // The 250 to the end of DATA: read, never forwarded.
                    lost.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                if cw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            _ = ended_rx.changed() => {}
        }
    }
    let _ = cw.shutdown().await;
    drop(cw);
    let _ = up.await;
}
