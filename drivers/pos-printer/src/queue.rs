//! The persistent print queue: no receipt is lost and none prints twice on its own.
//!
//! One JSON file per job in a folder per state, written to `tmp/` and renamed into place (a
//! rename within one file system is atomic, and the file and folder are synced first), so a
//! power cut leaves every job whole in exactly one state:
//!
//! - `pending/`: not sent. Printed by the next [`PrintQueue::pump`] that finds the printer
//!   ready (status asked with `DLE EOT` before every job).
//! - `sending/`: bytes went out but the printer has not confirmed the job (its status after
//!   sending was not "ready", the line broke mid-job, or the terminal stopped mid-job). Such a
//!   job is **uncertain**: it may have printed whole, in part or not at all, and no machine
//!   can tell which. It is never resent by itself; the cashier looks at the paper and calls
//!   [`PrintQueue::resolve`] with "it printed" or "print it again".
//! - `printed/`: confirmed (status ready after sending, or written whole to a connection that
//!   cannot report status). Kept, up to [`PRINTED_KEPT_MAX`] jobs, so any past receipt can be
//!   reprinted as a marked copy with [`PrintQueue::reprint`] without asking the core again.
//!
//! So delivery is exactly-once for everything the printer confirms, and at-most-once plus a
//! question to a person for the rare job cut off mid-print: the choice between a lost and a
//! doubled receipt is left to the one who can see the paper. Job ids come from the caller
//! (the receipt number and purpose); enqueueing an id the queue already knows does nothing,
//! so a terminal that retries after a crash cannot queue a receipt twice.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pos_core::receipt::{Align, Block, Document, Style};
use serde::{Deserialize, Serialize};

use crate::drawer::DrawerKick;
use crate::encode::{PrinterProfile, encode};
use crate::error::Error;
use crate::status::DrawerSense;
use crate::transport::{Transport, query_status};

/// Printed jobs kept for reprints; the oldest go first.
pub const PRINTED_KEPT_MAX: usize = 2_000;
/// Jobs sent in one [`PrintQueue::pump`], so a long backlog does not hold the till.
pub const JOBS_PER_PUMP_MAX: usize = 50;
/// Jobs waiting at once; past this the printer has been gone too long to keep piling up.
pub const PENDING_MAX: usize = 500;
/// The longest job id: it becomes part of a file name.
pub const JOB_ID_LEN_MAX: usize = 80;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJob {
    /// Letters, digits, `-` and `_` only, e.g. `sale-T1-00042`.
    pub id: String,
    pub document: Document,
    /// Opens the drawer as the job starts printing (cash sales).
    pub kick: Option<DrawerKick>,
}

/// What happened to an uncertain job, as the cashier saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The receipt is on the paper, whole: file the job as printed.
    WasPrinted,
    /// It is missing or torn: send it again (without opening the drawer again).
    PrintAgain,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    Added,
    /// The id was already queued, in flight or printed: nothing was added.
    AlreadyKnown,
}

/// What one pump did.
#[derive(Debug)]
pub struct PumpReport {
    /// Ids printed and confirmed, in order.
    pub printed: Vec<String>,
    /// Ids now uncertain (see the module docs).
    pub uncertain: Vec<String>,
    /// Why printing stopped with jobs still waiting; `None` when the queue was emptied.
    pub waiting: Option<Error>,
    /// What the printer's last status warns of (paper nearly out) while still printing.
    pub warning: Option<&'static str>,
}

/// How the queue talks to the printer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PumpSettings {
    pub profile: PrinterProfile,
    pub drawer_sense: DrawerSense,
    pub status_timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Pending,
    Sending,
    Printed,
}

impl State {
    const ALL: [State; 3] = [State::Pending, State::Sending, State::Printed];

    fn folder(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sending => "sending",
            State::Printed => "printed",
        }
    }
}

/// A job's file: `<sequence>-<id>.json`, the sequence keeping print order.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    sequence: u64,
    id: String,
}

impl Entry {
    fn file_name(&self) -> String {
        format!("{:012}-{}.json", self.sequence, self.id)
    }

    fn parse(name: &str) -> Option<Entry> {
        let stem = name.strip_suffix(".json")?;
        let (sequence, id) = stem.split_once('-')?;
        Some(Entry {
            sequence: sequence.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

pub struct PrintQueue {
    root: PathBuf,
    next_sequence: u64,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= JOB_ID_LEN_MAX
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl PrintQueue {
    /// Opens (creating if needed) the queue in `root`. Jobs left in `sending/` by a stop
    /// mid-print are [`PrintQueue::uncertain`] from now on.
    pub fn open(root: &Path) -> Result<PrintQueue, Error> {
        let mut queue = PrintQueue {
            root: root.to_owned(),
            next_sequence: 1,
        };
        for folder in ["tmp", "pending", "sending", "printed"] {
            fs::create_dir_all(root.join(folder)).map_err(|e| queue.storage(&e))?;
        }
        // A half-written job in tmp/ never reached a state: the caller did not get "Added".
        for entry in fs::read_dir(root.join("tmp")).map_err(|e| queue.storage(&e))? {
            let entry = entry.map_err(|e| queue.storage(&e))?;
            fs::remove_file(entry.path()).map_err(|e| queue.storage(&e))?;
        }
        let highest = State::ALL
            .into_iter()
            .map(|state| queue.entries(state))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .map(|entry| entry.sequence)
            .max()
            .unwrap_or(0);
        queue.next_sequence = highest + 1;
        Ok(queue)
    }

    fn storage(&self, e: &dyn std::fmt::Display) -> Error {
        Error::Storage {
            path: self.root.display().to_string(),
            detail: e.to_string(),
        }
    }

    fn dir(&self, state: State) -> PathBuf {
        self.root.join(state.folder())
    }

    fn entries(&self, state: State) -> Result<Vec<Entry>, Error> {
        let mut entries = Vec::new();
        for item in fs::read_dir(self.dir(state)).map_err(|e| self.storage(&e))? {
            let item = item.map_err(|e| self.storage(&e))?;
            if let Some(entry) = item.file_name().to_str().and_then(Entry::parse) {
                entries.push(entry);
            }
        }
        entries.sort_by_key(|e| e.sequence);
        Ok(entries)
    }

    fn find(&self, id: &str) -> Result<Option<(State, Entry)>, Error> {
        for state in State::ALL {
            if let Some(entry) = self.entries(state)?.into_iter().find(|e| e.id == id) {
                return Ok(Some((state, entry)));
            }
        }
        Ok(None)
    }

    fn sync_dir(&self, state: State) -> Result<(), Error> {
        fs::File::open(self.dir(state))
            .and_then(|dir| dir.sync_all())
            .map_err(|e| self.storage(&e))
    }

    fn write(&self, state: State, entry: &Entry, job: &PrintJob) -> Result<(), Error> {
        let json = serde_json::to_vec(job).map_err(|e| self.storage(&e))?;
        let tmp = self.root.join("tmp").join(entry.file_name());
        let mut file = fs::File::create(&tmp).map_err(|e| self.storage(&e))?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(|e| self.storage(&e))?;
        fs::rename(&tmp, self.dir(state).join(entry.file_name())).map_err(|e| self.storage(&e))?;
        self.sync_dir(state)
    }

    fn read(&self, state: State, entry: &Entry) -> Result<PrintJob, Error> {
        let bytes =
            fs::read(self.dir(state).join(entry.file_name())).map_err(|e| self.storage(&e))?;
        serde_json::from_slice(&bytes).map_err(|e| self.storage(&e))
    }

    fn shift(&self, entry: &Entry, from: State, to: State) -> Result<(), Error> {
        fs::rename(
            self.dir(from).join(entry.file_name()),
            self.dir(to).join(entry.file_name()),
        )
        .map_err(|e| self.storage(&e))?;
        self.sync_dir(to)?;
        self.sync_dir(from)
    }

    /// Adds a job at the end of the queue; durable when this returns.
    pub fn enqueue(&mut self, job: &PrintJob) -> Result<Enqueued, Error> {
        if !valid_id(&job.id) {
            return Err(Error::Request(format!(
                "print job id `{}` must be 1 to {JOB_ID_LEN_MAX} letters, digits, - or _",
                job.id
            )));
        }
        if self.find(&job.id)?.is_some() {
            return Ok(Enqueued::AlreadyKnown);
        }
        if self.entries(State::Pending)?.len() >= PENDING_MAX {
            return Err(Error::Request(format!(
                "{PENDING_MAX} receipts are already waiting for the printer; fix the printer first"
            )));
        }
        let entry = Entry {
            sequence: self.next_sequence,
            id: job.id.clone(),
        };
        self.write(State::Pending, &entry, job)?;
        self.next_sequence += 1;
        Ok(Enqueued::Added)
    }

    /// Ids waiting to print, in order.
    pub fn pending(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .entries(State::Pending)?
            .into_iter()
            .map(|e| e.id)
            .collect())
    }

    /// Ids that may or may not have printed: ask the cashier, then [`PrintQueue::resolve`].
    pub fn uncertain(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .entries(State::Sending)?
            .into_iter()
            .map(|e| e.id)
            .collect())
    }

    /// Ids printed and kept for reprints, oldest first.
    pub fn printed(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .entries(State::Printed)?
            .into_iter()
            .map(|e| e.id)
            .collect())
    }

    pub fn resolve(&mut self, id: &str, resolution: Resolution) -> Result<(), Error> {
        let entry = self
            .entries(State::Sending)?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| Error::Request(format!("no uncertain print job `{id}`")))?;
        match resolution {
            Resolution::WasPrinted => {
                self.shift(&entry, State::Sending, State::Printed)?;
                self.prune()
            }
            Resolution::PrintAgain => {
                let mut job = self.read(State::Sending, &entry)?;
                // The drawer opened the first time.
                job.kick = None;
                self.write(State::Pending, &entry, &job)?;
                fs::remove_file(self.dir(State::Sending).join(entry.file_name()))
                    .map_err(|e| self.storage(&e))?;
                self.sync_dir(State::Sending)
            }
        }
    }

    /// The document of a printed job.
    pub fn printed_document(&self, id: &str) -> Result<Document, Error> {
        let entry = self
            .entries(State::Printed)?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| Error::Request(format!("no printed receipt `{id}` is kept")))?;
        Ok(self.read(State::Printed, &entry)?.document)
    }

    /// Queues a copy of a printed job, marked COPY at the top, without a drawer kick. Each
    /// copy gets its own id (`<id>-copy<n>`) and prints once.
    pub fn reprint(&mut self, id: &str) -> Result<String, Error> {
        let mut document = self.printed_document(id)?;
        document.blocks.insert(
            0,
            Block::Text {
                text: "*** COPY ***".to_owned(),
                align: Align::Center,
                style: Style::TITLE_WIDE,
            },
        );
        for n in 1..=JOBS_PER_PUMP_MAX {
            let copy_id = format!("{id}-copy{n}");
            if valid_id(&copy_id) && self.find(&copy_id)?.is_none() {
                self.enqueue(&PrintJob {
                    id: copy_id.clone(),
                    document,
                    kick: None,
                })?;
                return Ok(copy_id);
            }
        }
        Err(Error::Request(format!(
            "receipt `{id}` has been reprinted too often already"
        )))
    }

    fn prune(&self) -> Result<(), Error> {
        let printed = self.entries(State::Printed)?;
        let excess = printed.len().saturating_sub(PRINTED_KEPT_MAX);
        for entry in printed.iter().take(excess) {
            fs::remove_file(self.dir(State::Printed).join(entry.file_name()))
                .map_err(|e| self.storage(&e))?;
        }
        Ok(())
    }

    /// Prints waiting jobs in order while the printer is ready: status before each job, the
    /// job, status after. Stops at the first problem and says why; jobs not sent stay queued.
    pub fn pump(
        &mut self,
        transport: &mut dyn Transport,
        settings: &PumpSettings,
    ) -> Result<PumpReport, Error> {
        let mut report = PumpReport {
            printed: Vec::new(),
            uncertain: Vec::new(),
            waiting: None,
            warning: None,
        };
        let ask = |transport: &mut dyn Transport,
                   warning: &mut Option<&'static str>|
         -> Result<(), Error> {
            match query_status(transport, settings.drawer_sense, settings.status_timeout)? {
                Some(status) => {
                    *warning = status.warning();
                    match status.problem() {
                        Some(problem) => Err(Error::Printer(problem)),
                        None => Ok(()),
                    }
                }
                None => Ok(()),
            }
        };
        for entry in self
            .entries(State::Pending)?
            .into_iter()
            .take(JOBS_PER_PUMP_MAX)
        {
            if let Err(reason) = ask(transport, &mut report.warning) {
                report.waiting = Some(reason);
                return Ok(report);
            }
            let job = self.read(State::Pending, &entry)?;
            self.shift(&entry, State::Pending, State::Sending)?;
            let bytes = encode(&job.document, &settings.profile, job.kick);
            let confirmed = transport
                .write_all(&bytes)
                .and_then(|()| ask(transport, &mut report.warning));
            match confirmed {
                Ok(()) => {
                    self.shift(&entry, State::Sending, State::Printed)?;
                    report.printed.push(entry.id);
                }
                Err(reason) => {
                    report.uncertain.push(entry.id);
                    report.waiting = Some(reason);
                    return Ok(report);
                }
            }
        }
        self.prune()?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_file_names_keep_order_and_id() {
        let entry = Entry {
            sequence: 42,
            id: "sale-T1-00042".to_owned(),
        };
        assert_eq!(entry.file_name(), "000000000042-sale-T1-00042.json");
        assert_eq!(Entry::parse(&entry.file_name()), Some(entry));
    }

    #[test]
    fn an_id_that_would_escape_the_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut queue = PrintQueue::open(dir.path()).unwrap();
        let err = queue
            .enqueue(&PrintJob {
                id: "../etc".to_owned(),
                document: Document::default(),
                kick: None,
            })
            .unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::Request);
    }
}
