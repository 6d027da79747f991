//! The heartbeat watchdog: a connection that stays open but goes silent (a
//! network partition without a reset, which a real server cannot be made to
//! do) is detected and replaced, and streaming resumes without loss.
//!
//! A small TCP proxy between the connector and the real MariaDB freezes
//! every connection open at a chosen moment; later connections pass.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Connections numbered below `freeze_below` stop forwarding (and stay open).
struct Proxy {
    port: u16,
    next_id: Arc<AtomicU64>,
    freeze_below: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let next_id = Arc::new(AtomicU64::new(0));
        let freeze_below = Arc::new(AtomicU64::new(0));
        let (ids, freeze) = (next_id.clone(), freeze_below.clone());
        tokio::spawn(async move {
            loop {
                let (client, _) = listener.accept().await.unwrap();
                let id = ids.fetch_add(1, Ordering::SeqCst);
                let server = TcpStream::connect(("127.0.0.1", target)).await.unwrap();
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(cr, sw, id, freeze.clone()));
                tokio::spawn(pipe(sr, cw, id, freeze.clone()));
            }
        });
        Proxy {
            port,
            next_id,
            freeze_below,
        }
    }

    /// Freezes every connection open now.
    fn freeze_current(&self) {
        self.freeze_below
            .store(self.next_id.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    id: u64,
    freeze_below: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if id < freeze_below.load(Ordering::SeqCst) {
            // Frozen: hold both sockets open and pass nothing, forever.
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_replaced_and_nothing_is_lost() {
    let server = Server::shared();
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let proxy = Proxy::start(server.port).await;
    let url = format!("mysql://cdc:cdc@127.0.0.1:{}/{}", proxy.port, db.name);
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let config = settings(
        &url,
        "ost_",
        &state.path().join("cp"),
        &out,
        "heartbeat_secs = 1\nreconnect_max_backoff_secs = 1",
    );
    let running = start_pipeline(config).await;

    db.create_ticket(1, 1, "2024-11-01 00:00:01").await;
    lines_eventually(&out, 1).await;

    proxy.freeze_current();
    let frozen_at = Instant::now();
    db.create_ticket(4, 0, "2024-11-01 00:00:02").await;
    let lines = lines_eventually(&out, 2).await;
    let waited = frozen_at.elapsed();
    running.stop().await.unwrap();

    assert_eq!(
        parse_lines(&lines)[1],
        expected("2024-11-01 00:00:02", 4, Some("Support"), 0, None)
    );
    assert!(
        waited >= Duration::from_secs(2),
        "the record came through a fresh connection after the watchdog ({waited:?})"
    );
    println!("silent connection replaced; record delivered {waited:?} after the freeze");
}
