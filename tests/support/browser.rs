//! Headless Chromium driven over the DevTools protocol on a pipe, for tests that click: the
//! browser started with `--remote-debugging-pipe` reads commands on fd 3 and writes answers and
//! events on fd 4, each a JSON message ended by a NUL byte. `sh` maps the child's stdin and
//! stdout onto those descriptors, so there is no port, no WebSocket client and no unsafe code.
//!
//! Waiting is on the browser's own messages (an answer, `Page.loadEventFired`, a promise the
//! page resolves), each bounded; nothing sleeps.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long one DevTools answer may take (a cold browser on a busy machine).
const ANSWER_LIMIT: Duration = Duration::from_secs(120);

/// The Chromium binary (Debian's `chromium`, installed by scripts/install-test-deps).
pub fn chromium() -> String {
    for candidate in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(candidate)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
        {
            return candidate.to_string();
        }
    }
    panic!("headless Chromium is needed: run scripts/install-test-deps (Debian package chromium)");
}

/// The flags every test browser runs with: headless, no network of its own, a fresh profile.
pub fn headless_flags() -> [&'static str; 9] {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ]
}

/// One headless browser, killed when dropped.
pub struct Browser {
    child: Child,
    input: ChildStdin,
    messages: mpsc::Receiver<Value>,
    /// Events read while waiting for an answer, for `wait_event`.
    events: Vec<Value>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

/// A tab, attached with its own DevTools session.
pub struct Tab {
    session: String,
}

impl Browser {
    /// Starts Chromium with an empty profile; its stderr goes to `log`.
    pub fn launch(log: &std::path::Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null"#)
            .arg(chromium())
            .args(headless_flags())
            .arg("--remote-debugging-pipe")
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let mut output = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut pending = Vec::new();
            let mut buf = [0u8; 65536];
            loop {
                let n = match output.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                pending.extend_from_slice(&buf[..n]);
                while let Some(end) = pending.iter().position(|&b| b == 0) {
                    let message: Vec<u8> = pending.drain(..=end).collect();
                    let Ok(value) = serde_json::from_slice(&message[..end]) else {
                        continue;
                    };
                    if tx.send(value).is_err() {
                        return;
                    }
                }
            }
        });
        Browser {
            child,
            input,
            messages: rx,
            events: Vec::new(),
            next_id: 0,
            _profile: profile,
        }
    }

    fn receive(&mut self, deadline: Instant, what: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(m) => m,
            Err(e) => panic!("chromium: no {what} ({e})"),
        }
    }

    /// Sends one DevTools command (in `tab`'s session, or to the browser) and returns its
    /// result; an error answer panics.
    pub fn call(&mut self, tab: Option<&Tab>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(tab) = tab {
            message["sessionId"] = tab.session.clone().into();
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.input.write_all(&bytes).unwrap();
        self.input.flush().unwrap();
        let deadline = Instant::now() + ANSWER_LIMIT;
        loop {
            let m = self.receive(deadline, &format!("answer to {method}"));
            if m["id"].as_u64() == Some(id) {
                if let Some(error) = m.get("error") {
                    panic!("chromium: {method} failed: {error}");
                }
                return m["result"].clone();
            }
            if m.get("method").is_some() {
                self.events.push(m);
            }
        }
    }

    /// Waits for event `method` in `tab`'s session.
    pub fn wait_event(&mut self, tab: &Tab, method: &str) -> Value {
        let ours = |m: &Value| m["method"] == method && m["sessionId"] == tab.session.as_str();
        if let Some(at) = self.events.iter().position(ours) {
            return self.events.remove(at);
        }
        let deadline = Instant::now() + ANSWER_LIMIT;
        loop {
            let m = self.receive(deadline, method);
            if ours(&m) {
                return m;
            }
        }
    }

    /// A new tab showing `url`, once its load event has fired.
    pub fn open(&mut self, url: &str) -> Tab {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let tab = Tab {
            session: attached["sessionId"].as_str().unwrap().to_string(),
        };
        self.call(Some(&tab), "Page.enable", json!({}));
        // Exceptions and console/security messages, for `errors`.
        self.call(Some(&tab), "Runtime.enable", json!({}));
        self.call(Some(&tab), "Log.enable", json!({}));
        self.call(Some(&tab), "Page.navigate", json!({"url": url}));
        self.wait_event(&tab, "Page.loadEventFired");
        tab
    }

    /// Evaluates `expression` in the tab (awaiting a promise) and returns its value; a thrown
    /// exception panics.
    pub fn eval(&mut self, tab: &Tab, expression: &str) -> Value {
        let r = self.call(
            Some(tab),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("chromium: {expression} threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Focuses the element `selector` and types `text` into it, as a paste would.
    pub fn type_into(&mut self, tab: &Tab, selector: &str, text: &str) {
        let selector = serde_json::to_string(selector).unwrap();
        self.eval(
            tab,
            &format!("(() => {{ const e = document.querySelector({selector}); e.focus(); e.select && e.select(); return true; }})()"),
        );
        self.call(Some(tab), "Input.insertText", json!({"text": text}));
    }

    /// The tab's uncaught exceptions and the browser's script and security errors (a
    /// Content-Security-Policy violation) so far. A failed request (a 401 the page handles)
    /// is not one.
    pub fn errors(&mut self, tab: &Tab) -> Vec<Value> {
        while let Ok(m) = self.messages.try_recv() {
            if m.get("method").is_some() {
                self.events.push(m);
            }
        }
        self.events
            .iter()
            .filter(|m| m["sessionId"] == tab.session.as_str())
            .filter(|m| {
                m["method"] == "Runtime.exceptionThrown"
                    || (m["method"] == "Log.entryAdded"
                        && m["params"]["entry"]["level"] == "error"
                        && m["params"]["entry"]["source"] != "network")
            })
            .cloned()
            .collect()
    }

    /// Every cookie the browser holds, for any site.
    pub fn cookies(&mut self) -> Vec<Value> {
        let r = self.call(None, "Storage.getCookies", json!({}));
        r["cookies"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
