//! Rollout decisions, pure: which terminal belongs to which stage, when a stage is done and the
//! next one starts, when a rollout halts, whether a store's maintenance window is open, and
//! what a terminal's feedback does to its action. No IO and no clock: the time comes in as an
//! argument, so every rule is checked by property tests.
//!
//! A plan has an optional canary store (stage 0: all its terminals) followed by stages given as
//! cumulative percentages of the other terminals (`[10, 50, 100]`). A stage is done when each
//! of its actions finished; the next stage starts only when the finished stage's failure rate
//! is within the threshold. A stage whose failures exceed the threshold halts the rollout at
//! once, without waiting for its other terminals.

use pos_core::id::{DeviceId, StoreId};
use serde::{Deserialize, Serialize};

/// How a rollout proceeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Every terminal of this store updates first, alone.
    #[serde(default)]
    pub canary_store: Option<StoreId>,
    /// Cumulative percentages of the remaining terminals, rising, ending at 100.
    pub stages: Vec<u8>,
    /// A stage whose failed share (in percent of its terminals) is above this halts the rollout.
    pub failure_threshold_percent: u8,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("a rollout needs at least one stage, such as [100]")]
    NoStages,
    #[error("stage percentages must rise and stay between 1 and 100; got {0:?}")]
    NotRising(Vec<u8>),
    #[error("the last stage must reach 100% of the terminals; it reaches {0}%")]
    Incomplete(u8),
    #[error("the failure threshold is a percentage (0 to 100); got {0}")]
    BadThreshold(u8),
    #[error("the rollout targets no terminal")]
    NoTerminals,
}

impl Plan {
    pub fn validate(&self) -> Result<(), PlanError> {
        let last = *self.stages.last().ok_or(PlanError::NoStages)?;
        let rising = self.stages.windows(2).all(|pair| pair[0] < pair[1]);
        if !rising || self.stages.iter().any(|p| *p == 0 || *p > 100) {
            return Err(PlanError::NotRising(self.stages.clone()));
        }
        if last != 100 {
            return Err(PlanError::Incomplete(last));
        }
        if self.failure_threshold_percent > 100 {
            return Err(PlanError::BadThreshold(self.failure_threshold_percent));
        }
        Ok(())
    }

    /// Stages in all, the canary's included.
    pub fn stage_count(&self) -> u32 {
        let canary = u32::from(self.canary_store.is_some());
        canary + u32::try_from(self.stages.len()).unwrap_or(u32::MAX)
    }
}

/// The stage of each terminal. Terminals of the canary store are stage 0; the others are
/// ordered by id (so the split is the same every time) and cut at each percentage, rounding
/// up, so a small fleet still gets at least one terminal in the first stage.
pub fn assign_stages(
    plan: &Plan,
    terminals: &[(DeviceId, StoreId)],
) -> Result<Vec<(DeviceId, StoreId, u32)>, PlanError> {
    plan.validate()?;
    if terminals.is_empty() {
        return Err(PlanError::NoTerminals);
    }
    let is_canary = |store: &StoreId| plan.canary_store.as_ref() == Some(store);
    let mut out: Vec<(DeviceId, StoreId, u32)> = terminals
        .iter()
        .filter(|(_, store)| is_canary(store))
        .map(|(id, store)| (id.clone(), store.clone(), 0))
        .collect();
    let first = u32::from(plan.canary_store.is_some());
    let mut rest: Vec<&(DeviceId, StoreId)> =
        terminals.iter().filter(|(_, s)| !is_canary(s)).collect();
    rest.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let n = rest.len();
    for (index, (id, store)) in rest.into_iter().enumerate() {
        let stage = plan
            .stages
            .iter()
            .position(|percent| index < (n * usize::from(*percent)).div_ceil(100))
            .unwrap_or(plan.stages.len() - 1);
        let stage = u32::try_from(stage).unwrap_or(u32::MAX);
        out.push((id.clone(), store.clone(), first + stage));
    }
    Ok(out)
}

/// Where one terminal's update stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Created; offered once its stage starts.
    Pending,
    /// The terminal reported progress.
    Running,
    /// The rollout was cancelled; waiting for the terminal to confirm.
    Canceling,
    Succeeded,
    Failed,
    Canceled,
}

impl ActionStatus {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            ActionStatus::Succeeded | ActionStatus::Failed | ActionStatus::Canceled
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Pending => "pending",
            ActionStatus::Running => "running",
            ActionStatus::Canceling => "canceling",
            ActionStatus::Succeeded => "succeeded",
            ActionStatus::Failed => "failed",
            ActionStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<ActionStatus> {
        [
            ActionStatus::Pending,
            ActionStatus::Running,
            ActionStatus::Canceling,
            ActionStatus::Succeeded,
            ActionStatus::Failed,
            ActionStatus::Canceled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// `status.execution` of DDI feedback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Execution {
    Closed,
    Proceeding,
    Canceled,
    Scheduled,
    Rejected,
    Resumed,
    Downloaded,
    Download,
}

/// `status.result.finished` of DDI feedback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Finished {
    Success,
    Failure,
    None,
}

/// Which resource the feedback was sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedbackOn {
    Deployment,
    Cancel,
}

/// What a feedback does to an action. A finished action never changes again.
pub fn apply_feedback(
    status: ActionStatus,
    on: FeedbackOn,
    execution: Execution,
    finished: Finished,
) -> ActionStatus {
    use ActionStatus as S;
    if status.is_finished() {
        return status;
    }
    match (on, execution, finished) {
        // The terminal says it is too late to cancel: the update goes on.
        (FeedbackOn::Cancel, Execution::Rejected, _) => S::Running,
        (FeedbackOn::Cancel, Execution::Closed | Execution::Canceled, Finished::Failure) => {
            S::Running
        }
        (FeedbackOn::Cancel, Execution::Closed | Execution::Canceled, _) => S::Canceled,
        (FeedbackOn::Cancel, _, _) => status,
        (FeedbackOn::Deployment, Execution::Closed, Finished::Success) => S::Succeeded,
        // A close without success is a failure: the terminal is not on the new version.
        (FeedbackOn::Deployment, Execution::Closed, _) => S::Failed,
        (FeedbackOn::Deployment, Execution::Canceled, _) => S::Canceled,
        (FeedbackOn::Deployment, _, _) if status == S::Canceling => S::Canceling,
        // Rejected means "not now" (another update runs): the offer stays open.
        (FeedbackOn::Deployment, _, _) => S::Running,
    }
}

/// How the actions of one stage stand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTally {
    pub total: u32,
    pub succeeded: u32,
    pub failed: u32,
    /// Cancelled actions count as finished, neither success nor failure.
    pub canceled: u32,
}

impl StageTally {
    pub fn add(&mut self, status: ActionStatus) {
        self.total += 1;
        match status {
            ActionStatus::Succeeded => self.succeeded += 1,
            ActionStatus::Failed => self.failed += 1,
            ActionStatus::Canceled => self.canceled += 1,
            _ => {}
        }
    }

    fn finished(&self) -> bool {
        self.succeeded + self.failed + self.canceled >= self.total
    }

    /// Whether the failures are above `threshold_percent` of the stage's terminals.
    fn over(&self, threshold_percent: u8) -> bool {
        u64::from(self.failed) * 100 > u64::from(threshold_percent) * u64::from(self.total)
    }
}

/// What happens next to a running rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Wait for more feedback.
    Wait,
    /// Start this stage: its terminals are offered the update.
    Advance {
        to: u32,
    },
    Halt {
        reason: String,
    },
    Finish,
}

/// Given the current stage and the tally of every stage, what the rollout does.
pub fn decide(plan: &Plan, current_stage: u32, tallies: &[StageTally]) -> Decision {
    let tally = tallies
        .get(usize::try_from(current_stage).unwrap_or(usize::MAX))
        .copied()
        .unwrap_or_default();
    if tally.over(plan.failure_threshold_percent) {
        return Decision::Halt {
            reason: format!(
                "stage {} failed on {} of {} terminals, above the {}% threshold",
                current_stage + 1,
                tally.failed,
                tally.total,
                plan.failure_threshold_percent
            ),
        };
    }
    if !tally.finished() {
        return Decision::Wait;
    }
    // Skip stages that hold no terminal (a tiny fleet cut into many percentages).
    let next = (current_stage + 1..plan.stage_count()).find(|stage| {
        tallies
            .get(usize::try_from(*stage).unwrap_or(usize::MAX))
            .is_some_and(|t| t.total > 0)
    });
    match next {
        Some(to) => Decision::Advance { to },
        None => Decision::Finish,
    }
}

/// When a store takes updates (installs and restarts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Every day between `start` and `end` ("02:00", "05:00") in the store's local time, which is
    /// UTC plus `utc_offset_minutes`. The window may wrap past midnight.
    Daily {
        start: String,
        end: String,
        utc_offset_minutes: i32,
    },
    /// Once the terminal reports its shift closed (the Z report printed).
    AfterZClose,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("'{0}' is not a time of day like 02:00")]
    BadTime(String),
    #[error("the UTC offset {0} minutes is not between -14 h and +14 h")]
    BadOffset(i32),
    #[error("a window from {0} to {0} is empty")]
    Empty(String),
}

/// Minutes after midnight of "HH:MM".
pub fn minute_of_day(text: &str) -> Result<u16, WindowError> {
    let bad = || WindowError::BadTime(text.to_owned());
    let (hours, minutes) = text.trim().split_once(':').ok_or_else(bad)?;
    let hours: u16 = hours.parse().map_err(|_| bad())?;
    let minutes: u16 = minutes.parse().map_err(|_| bad())?;
    if hours > 23 || minutes > 59 || text.trim().len() != 5 {
        return Err(bad());
    }
    Ok(hours * 60 + minutes)
}

impl Window {
    pub fn validate(&self) -> Result<(), WindowError> {
        if let Window::Daily {
            start,
            end,
            utc_offset_minutes,
        } = self
        {
            if utc_offset_minutes.abs() > 14 * 60 {
                return Err(WindowError::BadOffset(*utc_offset_minutes));
            }
            if minute_of_day(start)? == minute_of_day(end)? {
                return Err(WindowError::Empty(start.clone()));
            }
        }
        Ok(())
    }

    /// Whether the window is open at `now_unix_ms`, for a terminal whose last report says its
    /// shift is closed (`shift_closed`). A window that cannot be read is closed.
    pub fn is_open(&self, now_unix_ms: i64, shift_closed: bool) -> bool {
        match self {
            Window::AfterZClose => shift_closed,
            Window::Daily {
                start,
                end,
                utc_offset_minutes,
            } => {
                let (Ok(start), Ok(end)) = (minute_of_day(start), minute_of_day(end)) else {
                    return false;
                };
                let local_ms = now_unix_ms + i64::from(*utc_offset_minutes) * 60_000;
                let minute = local_ms.rem_euclid(86_400_000) / 60_000;
                let minute = u16::try_from(minute).unwrap_or(0);
                if start < end {
                    (start..end).contains(&minute)
                } else {
                    minute >= start || minute < end
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn terminals(per_store: &[usize]) -> Vec<(DeviceId, StoreId)> {
        per_store
            .iter()
            .enumerate()
            .flat_map(|(s, n)| {
                (0..*n).map(move |t| {
                    (
                        DeviceId::new(format!("term-{s:02}-{t:03}")),
                        StoreId::new(format!("store-{s:02}")),
                    )
                })
            })
            .collect()
    }

    fn plan(canary: bool, stages: Vec<u8>, threshold: u8) -> Plan {
        Plan {
            canary_store: canary.then(|| StoreId::new("store-00")),
            stages,
            failure_threshold_percent: threshold,
        }
    }

    fn stages_strategy() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::btree_set(1u8..100, 0..4).prop_map(|set| {
            let mut stages: Vec<u8> = set.into_iter().collect();
            stages.push(100);
            stages
        })
    }

    #[test]
    fn the_canary_store_goes_first_then_the_percentages_of_the_rest() {
        let all = terminals(&[2, 10, 10]);
        let assigned = assign_stages(&plan(true, vec![10, 50, 100], 20), &all).unwrap();
        let count = |stage| assigned.iter().filter(|a| a.2 == stage).count();
        assert_eq!(
            (count(0), count(1), count(2), count(3)),
            (2, 2, 8, 10),
            "{assigned:?}"
        );
        assert!(
            assigned
                .iter()
                .filter(|a| a.2 == 0)
                .all(|a| a.1.as_str() == "store-00")
        );
    }

    #[test]
    fn bad_plans_are_refused_with_a_reason() {
        let all = terminals(&[1]);
        let refuse = |p: Plan| assign_stages(&p, &all).unwrap_err().to_string();
        assert_eq!(
            refuse(plan(false, vec![], 10)),
            "a rollout needs at least one stage, such as [100]"
        );
        assert!(refuse(plan(false, vec![50, 20, 100], 10)).contains("must rise"));
        assert!(refuse(plan(false, vec![10, 50], 10)).contains("reaches 50%"));
        assert!(refuse(plan(false, vec![100], 101)).contains("got 101"));
        assert_eq!(
            assign_stages(&plan(false, vec![100], 10), &[])
                .unwrap_err()
                .to_string(),
            "the rollout targets no terminal"
        );
    }

    #[test]
    fn a_stage_halts_as_soon_as_its_failures_pass_the_threshold() {
        let p = plan(false, vec![50, 100], 20);
        let mut first = StageTally {
            total: 10,
            ..StageTally::default()
        };
        first.succeeded = 5;
        first.failed = 2;
        assert_eq!(
            decide(&p, 0, &[first, StageTally::default()]),
            Decision::Wait
        );
        first.failed = 3;
        assert!(matches!(
            decide(&p, 0, &[first, StageTally::default()]),
            Decision::Halt { reason } if reason == "stage 1 failed on 3 of 10 terminals, above the 20% threshold"
        ));
    }

    #[test]
    fn windows_open_on_the_store_clock_and_wrap_past_midnight() {
        let night = Window::Daily {
            start: "23:00".into(),
            end: "02:00".into(),
            utc_offset_minutes: 60,
        };
        let at = |h: i64, m: i64| (h * 60 + m) * 60_000 + 20_000 * 86_400_000;
        // 22:30 UTC is 23:30 in the store.
        assert!(night.is_open(at(22, 30), false));
        assert!(night.is_open(at(0, 59), false));
        assert!(!night.is_open(at(1, 0), false));
        assert!(!night.is_open(at(21, 59), true));
        assert!(Window::AfterZClose.is_open(at(12, 0), true));
        assert!(!Window::AfterZClose.is_open(at(12, 0), false));
        assert_eq!(
            minute_of_day("2:00").unwrap_err().to_string(),
            "'2:00' is not a time of day like 02:00"
        );
        assert!(
            Window::Daily {
                start: "02:00".into(),
                end: "02:00".into(),
                utc_offset_minutes: 0
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn feedback_moves_an_action_and_a_finished_one_stays_put() {
        use ActionStatus as S;
        use FeedbackOn::{Cancel, Deployment};
        assert_eq!(
            apply_feedback(
                S::Pending,
                Deployment,
                Execution::Proceeding,
                Finished::None
            ),
            S::Running
        );
        assert_eq!(
            apply_feedback(S::Running, Deployment, Execution::Closed, Finished::Success),
            S::Succeeded
        );
        assert_eq!(
            apply_feedback(S::Running, Deployment, Execution::Closed, Finished::Failure),
            S::Failed
        );
        assert_eq!(
            apply_feedback(S::Canceling, Cancel, Execution::Closed, Finished::Success),
            S::Canceled
        );
        assert_eq!(
            apply_feedback(S::Canceling, Cancel, Execution::Rejected, Finished::None),
            S::Running
        );
        assert_eq!(
            apply_feedback(
                S::Succeeded,
                Deployment,
                Execution::Closed,
                Finished::Failure
            ),
            S::Succeeded
        );
    }

    proptest! {
        #[test]
        fn every_terminal_gets_one_stage_and_stages_grow_as_planned(
            per_store in proptest::collection::vec(0usize..30, 1..6),
            stages in stages_strategy(),
            canary in any::<bool>(),
        ) {
            let all = terminals(&per_store);
            prop_assume!(!all.is_empty());
            let p = plan(canary, stages.clone(), 10);
            let assigned = assign_stages(&p, &all).unwrap();
            prop_assert_eq!(assigned.len(), all.len());
            let first = u32::from(canary);
            let canary_count = if canary { per_store[0] } else { 0 };
            prop_assert_eq!(assigned.iter().filter(|a| a.2 == 0 && canary).count(), canary_count);
            let rest = all.len() - canary_count;
            for (index, percent) in stages.iter().enumerate() {
                let stage = first + u32::try_from(index).unwrap();
                let reached = assigned.iter().filter(|a| a.2 >= first && a.2 <= stage).count();
                // Each stage reaches at least its share of the rest, rounded up, and never more.
                prop_assert_eq!(reached, (rest * usize::from(*percent)).div_ceil(100));
            }
            prop_assert!(assigned.iter().all(|a| a.2 < p.stage_count()));
        }

        #[test]
        fn a_rollout_never_advances_past_a_stage_over_its_threshold(
            total in 1u32..50,
            failed_share in 0u32..=100,
            threshold in 0u8..=100,
            open in 0u32..5,
        ) {
            let failed = total * failed_share / 100;
            let done = total.saturating_sub(open).max(failed);
            let tally = StageTally { total, succeeded: done - failed, failed, canceled: 0 };
            let next = StageTally { total: 3, ..StageTally::default() };
            let p = plan(false, vec![50, 100], threshold);
            let decision = decide(&p, 0, &[tally, next]);
            let over = u64::from(failed) * 100 > u64::from(threshold) * u64::from(total);
            match decision {
                Decision::Halt { .. } => prop_assert!(over),
                Decision::Advance { to } => {
                    prop_assert!(!over);
                    prop_assert_eq!(to, 1);
                    prop_assert_eq!(done, total);
                }
                Decision::Wait => prop_assert!(!over && done < total),
                Decision::Finish => prop_assert!(false, "stage 2 has terminals"),
            }
        }

        #[test]
        fn a_daily_window_is_open_exactly_its_minutes_each_day(
            start in 0u16..1440, length in 1u16..1439, offset in -840i32..=840, day in 0i64..20_000,
        ) {
            let end = (start + length) % 1440;
            prop_assume!(start != end);
            let fmt = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
            let window = Window::Daily { start: fmt(start), end: fmt(end), utc_offset_minutes: offset };
            let open = (0..1440i64)
                .filter(|minute| {
                    let utc = day * 86_400_000 + minute * 60_000 - i64::from(offset) * 60_000;
                    window.is_open(utc, false)
                })
                .count();
            prop_assert_eq!(open, usize::from(length));
        }
    }
}
