//! The rules for a composer's links (PRODUCT.md §2, §4): both ends exist, nothing links into the
//! trigger, branch ports, no duplicates, no cycles, and every step is reachable from the trigger.
//!
//! Steps are graph nodes by name; with duplicate names (reported elsewhere) the first step of a
//! name stands for all of them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::document::{Link, StepKind, TRIGGER};
use crate::problem::Problem;
use crate::validate::ComposerAt;

/// The two ports of a branch step's links.
pub const BRANCH_PORTS: [&str; 2] = ["true", "false"];

const MAX_CYCLE_NAMES: usize = 12;

/// The port of a branch's links taken when its condition is `result`.
pub fn branch_port(result: bool) -> &'static str {
    BRANCH_PORTS[usize::from(!result)]
}

impl Link {
    /// Whether a run follows this link once its `from` step finished: always, except a link
    /// on the port a branch did not take (`branch_result` is the branch's condition, `None`
    /// for any other step).
    pub fn followed(&self, branch_result: Option<bool>) -> bool {
        match (self.port.as_deref(), branch_result) {
            (Some(port), Some(result)) => port == branch_port(result),
            _ => true,
        }
    }
}

pub(crate) fn check_links(at: ComposerAt, out: &mut Vec<Problem>) {
    let graph = Graph::new(at);
    for (index, link) in at.composer.links.iter().enumerate() {
        check_ends(at, &graph, index, link, out);
        check_port(at, &graph, index, link, out);
    }
    check_duplicates(at, out);
    check_cycles(at, &graph, out);
    check_reachable(at, &graph, out);
}

/// The steps of one composer as nodes, and the links between existing steps as edges.
struct Graph<'a> {
    /// Node index by step name; the node index is the position of the name's first step.
    nodes: BTreeMap<&'a str, usize>,
    names: Vec<&'a str>,
    kinds: Vec<Option<StepKind>>,
    /// Per node: (target node, index of the link).
    edges: Vec<Vec<(usize, usize)>>,
    /// Nodes the trigger links to.
    entries: Vec<usize>,
}

impl<'a> Graph<'a> {
    fn new(at: ComposerAt<'a>) -> Graph<'a> {
        let mut graph = Graph {
            nodes: BTreeMap::new(),
            names: Vec::new(),
            kinds: Vec::new(),
            edges: Vec::new(),
            entries: Vec::new(),
        };
        for step in &at.composer.steps {
            if !graph.nodes.contains_key(step.name.as_str()) {
                graph.nodes.insert(&step.name, graph.names.len());
                graph.names.push(&step.name);
                graph.kinds.push(step.step_kind());
                graph.edges.push(Vec::new());
            }
        }
        for (index, link) in at.composer.links.iter().enumerate() {
            let Some(&to) = graph.nodes.get(link.to.as_str()) else {
                continue;
            };
            if link.from == TRIGGER {
                graph.entries.push(to);
            } else if let Some(&from) = graph.nodes.get(link.from.as_str()) {
                graph.edges[from].push((to, index));
            }
        }
        graph
    }

    fn has_step(&self, name: &str) -> bool {
        self.nodes.contains_key(name)
    }

    /// `None` for the trigger, an unknown step, or a step of unknown kind.
    fn kind_of(&self, name: &str) -> Option<StepKind> {
        self.nodes.get(name).and_then(|&n| self.kinds[n])
    }
}

fn link_error(at: ComposerAt, index: usize, field: &str, link: &Link, message: String) -> Problem {
    let problem = at.error(at.path(&format!(".links[{index}]{field}")), message);
    // Tag the step the user would look at: where the link starts, or for trigger links where it ends.
    let step = if link.from == TRIGGER {
        &link.to
    } else {
        &link.from
    };
    problem.at_step(step)
}

fn check_ends(at: ComposerAt, graph: &Graph, index: usize, link: &Link, out: &mut Vec<Problem>) {
    if link.from != TRIGGER && !graph.has_step(&link.from) {
        out.push(link_error(
            at,
            index,
            ".from",
            link,
            format!("link from unknown step \"{}\"", link.from),
        ));
    }
    if link.to == TRIGGER {
        out.push(link_error(
            at,
            index,
            ".to",
            link,
            "link into the trigger: the trigger can only start links".to_owned(),
        ));
    } else if !graph.has_step(&link.to) {
        out.push(link_error(
            at,
            index,
            ".to",
            link,
            format!("link to unknown step \"{}\"", link.to),
        ));
    }
}

fn check_port(at: ComposerAt, graph: &Graph, index: usize, link: &Link, out: &mut Vec<Problem>) {
    let from_branch = graph.kind_of(&link.from) == Some(StepKind::Branch);
    // Whether `from` is something whose ports we can judge: the trigger or a step of known kind.
    let known = link.from == TRIGGER || graph.kind_of(&link.from).is_some();
    let message = match (&link.port, from_branch) {
        (None, true) => format!(
            "link from branch \"{}\" needs a port: \"{}\" or \"{}\"",
            link.from, BRANCH_PORTS[0], BRANCH_PORTS[1]
        ),
        (Some(port), true) if !BRANCH_PORTS.contains(&port.as_str()) => {
            format!("port must be \"true\" or \"false\", not \"{port}\"")
        }
        (Some(port), false) if known => format!(
            "port \"{port}\" on a link from \"{}\", which is not a branch step",
            link.from
        ),
        _ => return,
    };
    out.push(link_error(at, index, ".port", link, message));
}

fn check_duplicates(at: ComposerAt, out: &mut Vec<Problem>) {
    let mut seen = BTreeSet::new();
    for (index, link) in at.composer.links.iter().enumerate() {
        if !seen.insert(link) {
            out.push(link_error(
                at,
                index,
                "",
                link,
                format!("duplicate link {link}"),
            ));
        }
    }
}

/// One problem per strongly connected group of steps, naming one cycle through it.
fn check_cycles(at: ComposerAt, graph: &Graph, out: &mut Vec<Problem>) {
    for component in cyclic_components(&graph.edges) {
        let Some((cycle, closing_link)) = find_cycle(&graph.edges, &component) else {
            continue;
        };
        let names: Vec<&str> = cycle.iter().map(|&n| graph.names[n]).collect();
        let start = names.first().copied().unwrap_or_default();
        // A cycle through hundreds of steps is still one problem; its first steps say where it is.
        let shown = if names.len() > MAX_CYCLE_NAMES {
            format!(
                "{} → … → {start} ({} steps)",
                names[..MAX_CYCLE_NAMES].join(" → "),
                names.len()
            )
        } else {
            format!("{} → {start}", names.join(" → "))
        };
        out.push(
            at.error(
                at.path(&format!(".links[{closing_link}]")),
                format!("links form a cycle: {shown}"),
            )
            .at_step(start),
        );
    }
}

fn check_reachable(at: ComposerAt, graph: &Graph, out: &mut Vec<Problem>) {
    let mut reached = vec![false; graph.names.len()];
    let mut queue: VecDeque<usize> = graph.entries.iter().copied().collect();
    for &n in &graph.entries {
        reached[n] = true;
    }
    while let Some(n) = queue.pop_front() {
        for &(next, _) in &graph.edges[n] {
            if !reached[next] {
                reached[next] = true;
                queue.push_back(next);
            }
        }
    }
    let mut warned = BTreeSet::new();
    for (index, step) in at.composer.steps.iter().enumerate() {
        let unreached = graph
            .nodes
            .get(step.name.as_str())
            .is_some_and(|&n| !reached[n]);
        if unreached && warned.insert(step.name.as_str()) {
            out.push(
                at.warning(
                    at.step_path(index, ""),
                    format!("step \"{}\" is not reachable from the trigger", step.name),
                )
                .at_step(&step.name),
            );
        }
    }
}

/// Strongly connected components that contain a cycle (more than one node, or a self-link),
/// each sorted, ordered by their first node. Kosaraju's algorithm, iterative so that a long chain
/// of steps cannot exhaust the stack.
fn cyclic_components(edges: &[Vec<(usize, usize)>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut order = Vec::with_capacity(n);
    let mut visited = vec![false; n];
    for start in 0..n {
        if visited[start] {
            continue;
        }
        visited[start] = true;
        let mut stack = vec![(start, 0usize)];
        while let Some((node, next)) = stack.last_mut() {
            if let Some(&(to, _)) = edges[*node].get(*next) {
                *next += 1;
                if !visited[to] {
                    visited[to] = true;
                    stack.push((to, 0));
                }
            } else {
                order.push(*node);
                stack.pop();
            }
        }
    }

    let mut reverse = vec![Vec::new(); n];
    for (from, targets) in edges.iter().enumerate() {
        for &(to, _) in targets {
            reverse[to].push(from);
        }
    }
    let mut component_of = vec![usize::MAX; n];
    let mut components: Vec<Vec<usize>> = Vec::new();
    for &root in order.iter().rev() {
        if component_of[root] != usize::MAX {
            continue;
        }
        let id = components.len();
        let mut members = vec![root];
        component_of[root] = id;
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            for &from in &reverse[node] {
                if component_of[from] == usize::MAX {
                    component_of[from] = id;
                    members.push(from);
                    stack.push(from);
                }
            }
        }
        members.sort_unstable();
        components.push(members);
    }

    let mut cyclic: Vec<Vec<usize>> = components
        .into_iter()
        .filter(|c| match c.as_slice() {
            [single] => edges[*single].iter().any(|&(to, _)| to == *single),
            _ => true,
        })
        .collect();
    cyclic.sort_unstable_by_key(|c| c.first().copied());
    cyclic
}

/// A shortest cycle through the first node of `component`: the nodes in order (starting with it)
/// and the index of the link that closes the cycle.
fn find_cycle(edges: &[Vec<(usize, usize)>], component: &[usize]) -> Option<(Vec<usize>, usize)> {
    let start = *component.first()?;
    let inside: BTreeSet<usize> = component.iter().copied().collect();
    let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut seen = BTreeSet::from([start]);
    while let Some(node) = queue.pop_front() {
        for &(to, link) in &edges[node] {
            if to == start {
                let mut cycle = vec![node];
                let mut at = node;
                while let Some(&p) = parent.get(&at) {
                    cycle.push(p);
                    at = p;
                }
                cycle.reverse();
                return Some((cycle, link));
            }
            if inside.contains(&to) && seen.insert(to) {
                parent.insert(to, node);
                queue.push_back(to);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::Document;
    use crate::problem::Severity;
    use crate::validate::tests::{assert_has, doc_with, messages};
    use serde_json::{Value, json};

    #[test]
    fn a_branch_follows_the_port_of_its_result_and_other_steps_every_link() {
        let link = |port: Option<&str>| crate::Link {
            from: "b".into(),
            to: "c".into(),
            port: port.map(String::from),
        };
        assert!(link(Some("true")).followed(Some(true)));
        assert!(!link(Some("true")).followed(Some(false)));
        assert!(link(Some("false")).followed(Some(false)));
        assert!(!link(Some("false")).followed(Some(true)));
        assert!(!link(Some("maybe")).followed(Some(false)));
        assert!(link(None).followed(None));
        assert!(link(None).followed(Some(false)));
        assert_eq!(
            (super::branch_port(true), super::branch_port(false)),
            ("true", "false")
        );
    }

    /// Code steps named `names`, with `links`.
    fn doc(names: &[&str], links: Value) -> Document {
        let steps: Vec<Value> = names
            .iter()
            .map(|n| json!({ "name": n, "kind": if n.starts_with("if") { "branch" } else { "code" },
                             "config": if n.starts_with("if") { json!({ "condition": "true" }) } else { json!({ "source": "" }) } }))
            .collect();
        doc_with(Value::Array(steps), links)
    }

    fn errors(doc: &Document) -> Vec<String> {
        doc.validate()
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn a_chain_from_the_trigger_is_fine() {
        let d = doc(
            &["a", "b"],
            json!([{ "from": "trigger", "to": "a" }, { "from": "a", "to": "b" }]),
        );
        assert_eq!(messages(&d), Vec::<String>::new());
    }

    #[test]
    fn dangling_links() {
        let d = doc(
            &["a"],
            json!([
                { "from": "trigger", "to": "a" },
                { "from": "ghost", "to": "a" },
                { "from": "a", "to": "x" }
            ]),
        );
        assert_eq!(
            errors(&d),
            vec![
                "composers[0].links[1].from: link from unknown step \"ghost\"",
                "composers[0].links[2].to: link to unknown step \"x\"",
            ]
        );
        let problems = d.validate();
        assert_eq!(problems[1].step.as_deref(), Some("a"));
    }

    #[test]
    fn links_into_the_trigger() {
        let d = doc(
            &["a"],
            json!([{ "from": "trigger", "to": "a" }, { "from": "a", "to": "trigger" }]),
        );
        assert_eq!(
            errors(&d),
            vec![
                "composers[0].links[1].to: link into the trigger: the trigger can only start links"
            ]
        );
    }

    #[test]
    fn duplicate_links() {
        let d = doc(
            &["a", "b"],
            json!([
                { "from": "trigger", "to": "a" },
                { "from": "a", "to": "b" },
                { "from": "a", "to": "b" }
            ]),
        );
        assert_eq!(
            errors(&d),
            vec!["composers[0].links[2]: duplicate link a → b"]
        );
    }

    #[test]
    fn cycles_are_reported_once_with_their_steps() {
        let d = doc(
            &["a", "b", "c", "d"],
            json!([
                { "from": "trigger", "to": "a" },
                { "from": "a", "to": "b" },
                { "from": "b", "to": "c" },
                { "from": "c", "to": "a" },
                { "from": "c", "to": "d" },
                { "from": "d", "to": "d" }
            ]),
        );
        assert_eq!(
            errors(&d),
            vec![
                "composers[0].links[3]: links form a cycle: a → b → c → a",
                "composers[0].links[5]: links form a cycle: d → d",
            ]
        );
        let problems = d.validate();
        assert_eq!(problems[0].step.as_deref(), Some("a"));
    }

    #[test]
    fn two_loops_through_one_group_are_one_problem() {
        let d = doc(
            &["a", "b", "c"],
            json!([
                { "from": "trigger", "to": "a" },
                { "from": "a", "to": "b" },
                { "from": "b", "to": "a" },
                { "from": "b", "to": "c" },
                { "from": "c", "to": "a" }
            ]),
        );
        assert_eq!(
            errors(&d),
            vec!["composers[0].links[2]: links form a cycle: a → b → a"]
        );
    }

    #[test]
    fn a_long_chain_does_not_exhaust_the_stack() {
        let names: Vec<String> = (0..20_000).map(|i| format!("s{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut links = vec![json!({ "from": "trigger", "to": "s0" })];
        for pair in names.windows(2) {
            links.push(json!({ "from": pair[0], "to": pair[1] }));
        }
        links.push(json!({ "from": names[names.len() - 1], "to": "s0" }));
        let d = doc(&refs, Value::Array(links));
        let errors = errors(&d);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("composers[0].links[20000]: links form a cycle: s0 → s1 → "));
        assert!(
            errors[0].ends_with("s11 → … → s0 (20000 steps)"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn ports_only_on_branch_links() {
        let d = doc(
            &["a", "if_big", "yes", "no"],
            json!([
                { "from": "trigger", "to": "a", "port": "true" },
                { "from": "a", "to": "if_big" },
                { "from": "if_big", "to": "yes", "port": "true" },
                { "from": "if_big", "to": "no", "port": "false" }
            ]),
        );
        assert_eq!(
            errors(&d),
            vec![
                "composers[0].links[0].port: port \"true\" on a link from \"trigger\", which is not a branch step"
            ]
        );
    }

    #[test]
    fn branch_links_need_a_true_or_false_port() {
        let d = doc(
            &["if_big", "yes", "no"],
            json!([
                { "from": "trigger", "to": "if_big" },
                { "from": "if_big", "to": "yes" },
                { "from": "if_big", "to": "no", "port": "maybe" }
            ]),
        );
        assert_eq!(
            errors(&d),
            vec![
                "composers[0].links[1].port: link from branch \"if_big\" needs a port: \"true\" or \"false\"",
                "composers[0].links[2].port: port must be \"true\" or \"false\", not \"maybe\"",
            ]
        );
    }

    #[test]
    fn unreachable_steps_are_warnings() {
        let d = doc(
            &["a", "lonely", "after_lonely"],
            json!([{ "from": "trigger", "to": "a" }, { "from": "lonely", "to": "after_lonely" }]),
        );
        let problems = d.validate();
        assert!(problems.iter().all(|p| p.severity == Severity::Warning));
        assert_has(
            &d,
            "composers[0].steps[1]: step \"lonely\" is not reachable from the trigger",
        );
        assert_has(
            &d,
            "composers[0].steps[2]: step \"after_lonely\" is not reachable from the trigger",
        );
        assert_eq!(problems.len(), 2);
        assert!(d.is_valid());
    }
}
