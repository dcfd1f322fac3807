//! The `routedesk` binary as a separate process, so tests can kill it with SIGKILL.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Serve {
    child: Child,
    pub log: PathBuf,
}

impl Serve {
    pub fn start(config: &Path, name: &str) -> Serve {
        let log = config.with_file_name(format!("{name}.log"));
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_routedesk"))
            .args(["serve", "--config"])
            .arg(config)
            .env("ROUTEDESK_LOG", "info")
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("routedesk starts");
        Serve { child, log }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait: the graceful stop.
    pub fn terminate(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
