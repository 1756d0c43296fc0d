//! The DAG templates of a pipeline: one entry DAG, or for a pipeline too large for one DAG, an entry
//! DAG of nested parts (see [`MAX_DAG_TASKS`]).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use super::{CLONE_TASK, ENTRY_TEMPLATE, Import, Lowering, Scope};
use crate::check::model::Task;
use crate::lower::ir::{DagTask, InputParameter, OutputParameter, OutputSource, TemplateKind, WorkflowTemplateItem};

/// The most tasks Argo accepts in one DAG template.
///
/// A pipeline whose entry DAG would hold more (its tasks plus `git-clone`) is split into nested DAG
/// templates:
///
/// - The tasks are put in a topological order that keeps source order where dependencies allow
///   (Kahn's algorithm, always taking the ready task that comes first in the source), and cut into
///   consecutive parts of at most `MAX_DAG_TASKS - 1` tasks. Each part is a DAG template `part-<k>`,
///   `k` counting from 1, so every dependency points to the same part or an earlier one.
/// - The entry DAG `pipeline` holds `git-clone` and one task `part-<k>` per part, which depends (bare
///   names) on every part that holds a dependency of one of its tasks or a task whose output it
///   reads, or on `git-clone` when there is none.
/// - Inside a part, dependencies on tasks of other parts are dropped: the part-level dependency
///   covers them. A task with no dependency left starts when its part starts.
/// - An output of task `t` in part `j` read in part `k` crosses through parameters named `t_o`
///   (output `o`; task names hold no `_`, so the name is unambiguous): part `j` declares an output
///   parameter `t_o` read from `{{tasks.t.outputs.parameters.o}}`, part `k` an input parameter `t_o`
///   that the entry DAG fills with `{{tasks.part-j.outputs.parameters.t_o}}`, and inside part `k`
///   the reference becomes `{{inputs.parameters.t_o}}` (in a `when`: `inputs.parameters['t_o']`).
///
/// Every step is linear in the tasks and references, except the ordering, which is `O(n log n)`.
/// One level of nesting holds `(MAX_DAG_TASKS - 1)²` tasks.
///
/// One difference from a single DAG remains: a part whose tasks were skipped still succeeds, so a
/// task whose dependency in another part was Skipped or Omitted runs, where a single DAG would omit
/// it (`.Succeeded`, or a bare name on an Omitted task).
pub const MAX_DAG_TASKS: usize = 200;

/// The DAG templates, entry first.
pub(super) fn dag_templates(lowering: &mut Lowering) -> Vec<WorkflowTemplateItem> {
    let n_tasks = lowering.pipeline.tasks.len();
    if n_tasks < MAX_DAG_TASKS {
        let order: Vec<usize> = (0..n_tasks).collect();
        let (tasks, _) = dag_tasks(lowering, &order, &vec![0; n_tasks], 0);
        let tasks = tasks.into_iter().map(|task| DagTask {
            depends: task.depends.or_else(|| Some(CLONE_TASK.to_string())),
            ..task
        });
        let entry = std::iter::once(clone_task()).chain(tasks).collect();
        return vec![dag_template(ENTRY_TEMPLATE.to_string(), Vec::new(), Vec::new(), entry)];
    }
    let order = topological_order(&lowering.pipeline.tasks);
    let parts: Vec<&[usize]> = order.chunks(MAX_DAG_TASKS - 1).collect();
    let mut part_of = vec![0; n_tasks];
    for (part_idx, part) in parts.iter().enumerate() {
        for task_idx in part.iter() {
            if let Some(slot) = part_of.get_mut(*task_idx) {
                *slot = part_idx;
            }
        }
    }
    let mut built = Vec::with_capacity(parts.len());
    let mut exports: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); parts.len()];
    for (part_idx, part) in parts.iter().enumerate() {
        let (tasks, imports) = dag_tasks(lowering, part, &part_of, part_idx);
        let mut upstream: BTreeSet<usize> = part
            .iter()
            .filter_map(|task_idx| lowering.pipeline.tasks.get(*task_idx))
            .flat_map(|task| &task.needs)
            .filter_map(|need| part_of.get(need.task).copied())
            .filter(|dag| *dag != part_idx)
            .collect();
        for (input, import) in &imports {
            upstream.insert(import.dag);
            if let Some(outputs) = exports.get_mut(import.dag) {
                outputs.insert(input.clone(), import.source.clone());
            }
        }
        built.push((tasks, imports, upstream));
    }
    let mut entry = vec![clone_task()];
    let mut templates = Vec::with_capacity(parts.len() + 1);
    for ((part_idx, (tasks, imports, upstream)), outputs) in built.into_iter().enumerate().zip(exports) {
        let name = part_name(part_idx);
        let depends = if upstream.is_empty() {
            CLONE_TASK.to_string()
        } else {
            upstream.into_iter().map(part_name).collect::<Vec<_>>().join(" && ")
        };
        entry.push(DagTask {
            name: name.clone(),
            template: name.clone(),
            depends: Some(depends),
            arguments: imports
                .iter()
                .map(|(input, import)| {
                    let producer = part_name(import.dag);
                    (
                        input.clone(),
                        format!("{{{{tasks.{producer}.outputs.parameters.{input}}}}}"),
                    )
                })
                .collect(),
            when: None,
        });
        let inputs = imports
            .into_keys()
            .map(|name| InputParameter { name, default: None })
            .collect();
        let outputs = outputs
            .into_iter()
            .map(|(name, source)| OutputParameter {
                name,
                source: OutputSource::Parameter(source),
            })
            .collect();
        templates.push(dag_template(name, inputs, outputs, tasks));
    }
    templates.insert(
        0,
        dag_template(ENTRY_TEMPLATE.to_string(), Vec::new(), Vec::new(), entry),
    );
    templates
}

fn part_name(part_idx: usize) -> String {
    format!("part-{}", part_idx + 1)
}

fn clone_task() -> DagTask {
    DagTask {
        name: CLONE_TASK.to_string(),
        template: CLONE_TASK.to_string(),
        depends: None,
        arguments: Vec::new(),
        when: None,
    }
}

fn dag_template(
    name: String,
    inputs: Vec<InputParameter>,
    outputs: Vec<OutputParameter>,
    tasks: Vec<DagTask>,
) -> WorkflowTemplateItem {
    WorkflowTemplateItem {
        name,
        inputs,
        outputs,
        kind: TemplateKind::Dag(tasks),
    }
}

/// The DAG tasks for the pipeline tasks `order`, all in DAG `dag`, with their dependencies inside
/// it, and the outputs of other DAGs' tasks they read.
fn dag_tasks(
    lowering: &mut Lowering,
    order: &[usize],
    dag_of: &[usize],
    dag: usize,
) -> (Vec<DagTask>, BTreeMap<String, Import>) {
    let names = lowering.names;
    let mut scope = Scope {
        names,
        dag_of,
        dag,
        imports: BTreeMap::new(),
    };
    let mut tasks = Vec::with_capacity(order.len());
    for task_idx in order {
        let Some(mut dag_task) = lowering.dag_task(*task_idx, &mut scope) else {
            continue;
        };
        let needs = lowering
            .pipeline
            .tasks
            .get(*task_idx)
            .map_or(&[][..], |task| &task.needs);
        let depends: Vec<String> = needs
            .iter()
            .filter(|need| dag_of.get(need.task) == Some(&dag))
            .filter_map(|need| {
                let name = names.get(need.task)?;
                // A bare name also runs after a skipped task; only `.Succeeded` waits for its work.
                Some(if need.must_succeed {
                    format!("{name}.Succeeded")
                } else {
                    name.clone()
                })
            })
            .collect();
        dag_task.depends = (!depends.is_empty()).then(|| depends.join(" && "));
        tasks.push(dag_task);
    }
    (tasks, scope.imports)
}

/// Task indexes in an order where every task comes after its dependencies, and otherwise in source
/// order: among the tasks whose dependencies are placed, the first in the source goes next.
pub(super) fn topological_order(tasks: &[Task]) -> Vec<usize> {
    let mut n_waiting = vec![0usize; tasks.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
    for (task_idx, task) in tasks.iter().enumerate() {
        for need in &task.needs {
            if let (Some(list), Some(count)) = (dependents.get_mut(need.task), n_waiting.get_mut(task_idx)) {
                list.push(task_idx);
                *count += 1;
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..tasks.len())
        .filter(|task_idx| n_waiting.get(*task_idx) == Some(&0))
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(tasks.len());
    while let Some(Reverse(task_idx)) = ready.pop() {
        order.push(task_idx);
        for dependent in dependents.get(task_idx).into_iter().flatten() {
            if let Some(count) = n_waiting.get_mut(*dependent) {
                *count -= 1;
                if *count == 0 {
                    ready.push(Reverse(*dependent));
                }
            }
        }
    }
    // INVARIANT: the checker rejects cycles. Should one slip through, the tasks still waiting are
    // kept rather than dropped, so that Argo rejects the workflow instead of running part of it.
    order.extend((0..tasks.len()).filter(|task_idx| n_waiting.get(*task_idx).is_some_and(|count| *count > 0)));
    order
}
