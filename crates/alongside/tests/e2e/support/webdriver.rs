//! A WebDriver session for the browser tests: chromedriver on a free local port and headless
//! Chromium with its own profile and an exact viewport size. Without Chromium or ChromeDriver
//! the tests fail with a message to run `scripts/test` (which installs them); they never skip.

use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for a page, element or driver.
pub const WAIT: Duration = Duration::from_secs(30);

fn tool(var: &str, default: &str, what: &str) -> String {
    let path = std::env::var(var).unwrap_or_else(|_| default.to_string());
    assert!(
        Path::new(&path).exists(),
        "{what} not found at {path}. The browser tests need it: run scripts/test, which installs \
         Debian's chromium and chromium-driver, or set {var}."
    );
    path
}

/// A running chromedriver, killed when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub async fn start() -> Driver {
        let chromedriver = tool(
            "ALONGSIDE_CHROMEDRIVER",
            "/usr/bin/chromedriver",
            "ChromeDriver",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}"));
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            let ready = async {
                let v: serde_json::Value = reqwest::get(format!("{}/status", driver.url))
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                v["value"]["ready"].as_bool()
            }
            .await;
            if ready == Some(true) {
                break driver;
            }
            assert!(
                started.elapsed() < WAIT,
                "chromedriver did not become ready on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new browser session with its own profile and a window of the given size.
    pub async fn session(&self, width: u32, height: u32, profile: &Path) -> Client {
        let chromium = tool("ALONGSIDE_CHROMIUM", "/usr/bin/chromium", "Chromium");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_string(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-component-update",
                    "--disable-sync",
                    "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!("cannot start a Chromium session through chromedriver: {e}")
            });
        // The viewport, not only the window, must be the size asked for.
        for _ in 0..3 {
            let inner = client
                .execute("return [window.innerWidth, window.innerHeight];", vec![])
                .await
                .expect("read viewport");
            let (iw, ih) = (
                inner[0].as_u64().unwrap_or(0),
                inner[1].as_u64().unwrap_or(0),
            );
            if iw == u64::from(width) && ih == u64::from(height) {
                return client;
            }
            let (ow, oh) = client.get_window_size().await.expect("window size");
            client
                .set_window_size(
                    (ow as i64 + i64::from(width) - iw as i64) as u32,
                    (oh as i64 + i64::from(height) - ih as i64) as u32,
                )
                .await
                .expect("resize window");
        }
        let inner = client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .expect("read viewport");
        panic!("could not make the viewport {width}×{height}: it is {inner}");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub use alongside_testkit::{squash, text_of};
