//! Which steps run next (PRODUCT.md §4): a step starts once every link into it is resolved and
//! at least one of them ran; it is skipped when none did (its sources were skipped, or a branch
//! took the other port). Pure: the runner asks it after each step finishes.

use model::{Composer, TRIGGER};
use std::collections::HashMap;

use crate::runs::StepStatus;

/// What the links decide for the pending steps, in the order a run takes them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Ready {
    /// Indexes into the composer's steps, to start now.
    pub start: Vec<usize>,
    /// Indexes of steps none of whose inputs ran: skipped.
    pub skip: Vec<usize>,
}

enum Incoming {
    Waiting,
    Ran,
    Skipped,
}

/// The steps to start and to skip, given each step's status (by name) and the results of the
/// branches that finished. Skipping cascades: a step after a skipped one is judged again.
pub(crate) fn ready_steps(
    composer: &Composer,
    status: &HashMap<String, StepStatus>,
    branch_result: &HashMap<String, bool>,
) -> Ready {
    let mut status = status.clone();
    let mut ready = Ready::default();
    let mut changed = true;
    while changed {
        changed = false;
        for (index, step) in composer.steps.iter().enumerate() {
            if status.get(&step.name) != Some(&StepStatus::Pending) {
                continue;
            }
            let incoming = composer
                .links
                .iter()
                .filter(|l| l.to == step.name)
                .map(|l| {
                    if l.from == TRIGGER {
                        return Incoming::Ran;
                    }
                    match status.get(&l.from) {
                        Some(StepStatus::Succeeded | StepStatus::Failed) => {
                            if l.followed(branch_result.get(&l.from).copied()) {
                                Incoming::Ran
                            } else {
                                Incoming::Skipped
                            }
                        }
                        Some(StepStatus::Skipped) | None => Incoming::Skipped,
                        _ => Incoming::Waiting,
                    }
                });
            let (mut waiting, mut ran) = (false, false);
            for i in incoming {
                waiting |= matches!(i, Incoming::Waiting);
                ran |= matches!(i, Incoming::Ran);
            }
            if waiting {
                continue;
            }
            let next = if ran {
                ready.start.push(index);
                StepStatus::Running
            } else {
                ready.skip.push(index);
                StepStatus::Skipped
            };
            status.insert(step.name.clone(), next);
            changed = true;
        }
    }
    ready
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn composer(links: serde_json::Value) -> Composer {
        serde_json::from_value(json!({
            "slug": "c", "name": "C", "trigger": {"kind": "manual"},
            "steps": [
                {"name": "a", "kind": "transform", "config": {}},
                {"name": "check", "kind": "branch", "config": {"condition": "true"}},
                {"name": "yes", "kind": "transform", "config": {}},
                {"name": "no", "kind": "transform", "config": {}},
                {"name": "after_no", "kind": "transform", "config": {}},
                {"name": "join", "kind": "transform", "config": {}}
            ],
            "links": links
        }))
        .unwrap()
    }

    fn statuses(c: &Composer, set: &[(&str, StepStatus)]) -> HashMap<String, StepStatus> {
        let mut s: HashMap<String, StepStatus> = c
            .steps
            .iter()
            .map(|s| (s.name.clone(), StepStatus::Pending))
            .collect();
        for (name, st) in set {
            s.insert(name.to_string(), *st);
        }
        s
    }

    fn names(c: &Composer, idx: &[usize]) -> Vec<String> {
        idx.iter().map(|&i| c.steps[i].name.clone()).collect()
    }

    fn graph() -> Composer {
        composer(json!([
            {"from": "trigger", "to": "a"},
            {"from": "a", "to": "check"},
            {"from": "check", "to": "yes", "port": "true"},
            {"from": "check", "to": "no", "port": "false"},
            {"from": "no", "to": "after_no"},
            {"from": "yes", "to": "join"},
            {"from": "after_no", "to": "join"}
        ]))
    }

    #[test]
    fn steps_start_once_their_inputs_are_done() {
        let c = graph();
        let r = ready_steps(&c, &statuses(&c, &[]), &HashMap::new());
        assert_eq!(names(&c, &r.start), ["a"]);
        assert!(r.skip.is_empty());
        // While `a` runs nothing else may start.
        let running = statuses(&c, &[("a", StepStatus::Running)]);
        assert_eq!(ready_steps(&c, &running, &HashMap::new()), Ready::default());
        // A failed step's successors run (on_error: continue got it this far).
        let failed = statuses(&c, &[("a", StepStatus::Failed)]);
        assert_eq!(
            names(&c, &ready_steps(&c, &failed, &HashMap::new()).start),
            ["check"]
        );
    }

    #[test]
    fn a_branch_skips_the_other_side_and_the_join_still_runs() {
        let c = graph();
        let done = statuses(
            &c,
            &[
                ("a", StepStatus::Succeeded),
                ("check", StepStatus::Succeeded),
            ],
        );
        let took_true = HashMap::from([("check".to_string(), true)]);
        let r = ready_steps(&c, &done, &took_true);
        assert_eq!(names(&c, &r.start), ["yes"]);
        // `no` is skipped, and so is what follows only it.
        assert_eq!(names(&c, &r.skip), ["no", "after_no"]);
        // `join` waits for `yes`, then runs: one of its inputs ran.
        let mut later = done.clone();
        for (n, s) in [
            ("yes", StepStatus::Succeeded),
            ("no", StepStatus::Skipped),
            ("after_no", StepStatus::Skipped),
        ] {
            later.insert(n.into(), s);
        }
        assert_eq!(
            names(&c, &ready_steps(&c, &later, &took_true).start),
            ["join"]
        );
    }

    #[test]
    fn a_step_none_of_whose_inputs_ran_is_skipped() {
        let c = graph();
        let mut all_skipped = statuses(
            &c,
            &[
                ("a", StepStatus::Succeeded),
                ("check", StepStatus::Succeeded),
            ],
        );
        all_skipped.insert("yes".into(), StepStatus::Skipped);
        all_skipped.insert("after_no".into(), StepStatus::Skipped);
        all_skipped.insert("no".into(), StepStatus::Skipped);
        let r = ready_steps(&c, &all_skipped, &HashMap::from([("check".into(), false)]));
        assert_eq!(names(&c, &r.skip), ["join"]);
        assert!(r.start.is_empty());
    }
}
