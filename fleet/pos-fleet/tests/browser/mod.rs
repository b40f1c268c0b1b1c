//! Headless Chromium (Debian's `chromium` package) driven over the DevTools protocol through
//! `--remote-debugging-pipe`: JSON messages separated by NUL bytes on file descriptors 3
//! (to the browser) and 4 (from it). A shell maps the child's stdin and stdout onto those
//! descriptors, so no websocket and no extra crate is needed.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHROMIUM: &str = "chromium";
const ANSWER_WAIT: Duration = Duration::from_secs(30);

pub struct Browser {
    child: Child,
    to_browser: ChildStdin,
    from_browser: Receiver<Value>,
    next_id: u64,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium headless with a fresh profile and opens one page of `width`×`height`.
    pub fn start(width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let script = format!(
            "exec {CHROMIUM} --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
             --no-first-run --no-default-browser-check --disable-extensions \
             --hide-scrollbars --font-render-hinting=none \
             --user-data-dir='{}' --window-size={width},{height} \
             --remote-debugging-pipe about:blank 3<&0 4>&1 0</dev/null 1>&2",
            profile.path().display()
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMIUM} (Debian package `chromium`): {e}"));
        let to_browser = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, from_browser) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut message = Vec::new();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if message.last() == Some(&0) {
                            message.pop();
                        }
                        if let Ok(value) = serde_json::from_slice::<Value>(&message)
                            && sender.send(value).is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        let mut browser = Browser {
            child,
            to_browser,
            from_browser,
            next_id: 1,
            session: String::new(),
            _profile: profile,
        };
        let target = browser.call_browser("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = browser.call_browser(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Page.enable", json!({}));
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        browser
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to_browser.write_all(&bytes).unwrap();
        self.to_browser.flush().unwrap();
        let deadline = Instant::now() + ANSWER_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from_browser.recv_timeout(left) {
                Ok(answer) if answer["id"] == json!(id) => {
                    assert!(
                        answer.get("error").is_none(),
                        "{method} failed: {}",
                        answer["error"]
                    );
                    return answer["result"].clone();
                }
                Ok(_event) => {}
                Err(RecvTimeoutError::Timeout) => panic!("Chromium did not answer {method}"),
                Err(RecvTimeoutError::Disconnected) => panic!("Chromium exited during {method}"),
            }
        }
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    /// A command to the page.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    /// The value of a JavaScript expression in the page (promises are awaited).
    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "`{expression}` threw: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    /// Waits until the expression is true, e.g. until a page has loaded after a click.
    pub fn wait_for(&mut self, expression: &str) {
        let deadline = Instant::now() + ANSWER_WAIT;
        let check = format!(
            "(() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }})()"
        );
        while Instant::now() < deadline {
            if self.eval(&check) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the page never showed `{expression}`; it is at {} with:\n{}",
            self.eval("location.href"),
            self.eval("document.body ? document.body.innerText : ''")
        );
    }

    /// Opens `url` and waits until the page has loaded.
    pub fn open(&mut self, url: &str) {
        self.eval("window.__left = true");
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for("!window.__left && document.readyState === 'complete'");
    }

    /// Sets a form field's value as typing would.
    pub fn fill(&mut self, selector: &str, value: &str) {
        let done = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; \
             e.value = {}; e.dispatchEvent(new Event('input', {{bubbles: true}})); return true; }})()",
            json!(selector),
            json!(value)
        ));
        assert_eq!(done, json!(true), "no field {selector}");
    }

    /// Clicks a button that submits a form, and waits for the next page to load.
    pub fn submit(&mut self, selector: &str) {
        self.eval("window.__left = true");
        let done = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; e.click(); return true; }})()",
            json!(selector)
        ));
        assert_eq!(done, json!(true), "no button {selector}");
        self.wait_for("!window.__left && document.readyState === 'complete'");
    }

    /// Puts a file in a file input, as choosing it in the file dialog would.
    pub fn choose_file(&mut self, selector: &str, path: &std::path::Path) {
        let document = self.call("DOM.getDocument", json!({}));
        let found = self.call(
            "DOM.querySelector",
            json!({"nodeId": document["root"]["nodeId"], "selector": selector}),
        );
        let node = found["nodeId"].as_u64().unwrap_or(0);
        assert_ne!(node, 0, "no file input {selector}");
        self.call(
            "DOM.setFileInputFiles",
            json!({"files": [path.display().to_string()], "nodeId": node}),
        );
    }

    pub fn text(&mut self, selector: &str) -> String {
        let value = self.eval(&format!(
            "(() => {{ const e = document.querySelector({}); return e ? e.innerText : null; }})()",
            json!(selector)
        ));
        value
            .as_str()
            .unwrap_or_else(|| panic!("no element {selector} on {}", self.eval("location.href")))
            .to_owned()
    }

    /// A PNG of the whole page.
    pub fn screenshot(&mut self) -> Vec<u8> {
        use base64::Engine;
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let id = self.next_id;
        let message = format!("{}\0", json!({"id": id, "method": "Browser.close"}));
        if self.to_browser.write_all(message.as_bytes()).is_ok() {
            std::thread::sleep(Duration::from_millis(200));
        }
        if self.child.try_wait().ok().flatten().is_none() {
            self.child.kill().ok();
        }
        self.child.wait().ok();
    }
}
