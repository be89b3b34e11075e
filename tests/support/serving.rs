//! An in-process `tidestore serve` for the wire tests (feature `server`): on a free port of
//! loopback, stopped — drained, its database closed — on drop or by [`Serving::stop_within`].

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tidestore::server::{serve_until, Config};

/// A running server.
pub struct Serving {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Serving {
    /// Serves `config`, on a free port of loopback whatever its address says.
    pub fn start(mut config: Config) -> Serving {
        config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (tell, listening) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            serve_until(
                config,
                |addr| tell.send(addr).expect("the test waits"),
                async {
                    let _ = stopped.await;
                },
            )
        });
        let addr = listening
            .recv_timeout(Duration::from_secs(30))
            .expect("the server listens");
        Serving {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops the server as SIGTERM does and waits up to `limit` for it to end; false if it
    /// still runs then (it is left to end on its own). A server that ended stopped cleanly.
    pub fn stop_within(&mut self, limit: Duration) -> bool {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(thread) = self.thread.take() else {
            return true;
        };
        let deadline = Instant::now() + limit;
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if !thread.is_finished() {
            return false;
        }
        thread
            .join()
            .expect("the server thread ends")
            .expect("the server stops cleanly");
        true
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let result = thread.join().expect("the server thread ends");
            if !std::thread::panicking() {
                result.expect("the server stops cleanly");
            }
        }
    }
}
