//! Work spread over the machine's cores with a deterministic result: the output of [`map`] is in the
//! order of its input, whatever the number of threads and however they were scheduled.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread;

/// Below this many items a batch runs on the calling thread: starting a thread costs more than the
/// work it would take over.
const MIN_PARALLEL_ITEMS: usize = 4;

/// How many runs each thread's share is cut into: enough that the threads finish close together,
/// few enough that taking a run costs nothing next to the work in it.
const RUNS_PER_THREAD: usize = 8;

/// The number of threads to use: the cores available, or 1 when that cannot be known.
///
/// Asked of the system once per process: on Linux the answer takes six system calls (the cgroup's CPU
/// quota is read from files), a tenth of a millisecond that a one-service `shipc check` would pay at
/// every phase.
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// `items.iter().map(work).collect()`, computed on up to [`threads`] threads (see [`map_owned`]).
pub fn map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_owned(items.iter().collect(), work)
}

/// As [`map`], but takes the items by value: each is dropped as soon as `work` is done with it.
///
/// The items are cut into small runs that the threads take one at a time as they finish the previous
/// one, so a thread that the system preempts, or that drew slower items, delays the end by one run at
/// most; the results are put back in the order of the runs.
pub fn map_owned<T: Send, R: Send>(mut items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    // Too few items for two threads: the system is not even asked how many cores there are.
    let threads = if items.len() < 2 * MIN_PARALLEL_ITEMS {
        1
    } else {
        threads().min(items.len() / MIN_PARALLEL_ITEMS)
    };
    if threads == 1 {
        return items.into_iter().map(work).collect();
    }
    let run_length = items.len().div_ceil(threads * RUNS_PER_THREAD);
    let mut runs = Vec::with_capacity(threads * RUNS_PER_THREAD);
    while items.len() > run_length {
        let rest = items.split_off(run_length);
        runs.push(Mutex::new(Some(items)));
        items = rest;
    }
    runs.push(Mutex::new(Some(items)));
    let next_run = AtomicUsize::new(0);
    let take_runs = || {
        let mut done = Vec::new();
        loop {
            let idx = next_run.fetch_add(1, Ordering::Relaxed);
            let Some(run) = runs.get(idx) else { break };
            // Each run is taken by exactly one thread, so the lock is never contended, and it is never
            // held while anything could panic.
            let items = run
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .unwrap_or_default();
            done.push((idx, items.into_iter().map(&work).collect::<Vec<R>>()));
        }
        done
    };
    let take_runs = &take_runs;
    let mut results: Vec<Option<Vec<R>>> = Vec::new();
    results.resize_with(runs.len(), || None);
    thread::scope(|scope| {
        // The calling thread is one of the workers. Besides saving a thread, that keeps much of what
        // the items allocate (a phase's syntax trees) in a heap that outlives the phase: the
        // allocator reuses a live thread's freed memory, but not that of a thread that has exited.
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(take_runs)).collect();
        let mut place = |done: Vec<(usize, Vec<R>)>| {
            for (idx, run) in done {
                if let Some(slot) = results.get_mut(idx) {
                    *slot = Some(run);
                }
            }
        };
        place(take_runs());
        for helper in helpers {
            match helper.join() {
                Ok(done) => place(done),
                // A panic in a worker is a bug; carry it to the caller's thread, where the panic hook
                // reports it.
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
    });
    let mut merged = Vec::with_capacity(results.iter().flatten().map(Vec::len).sum());
    for run in results.into_iter().flatten() {
        merged.extend(run);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = map(&items, |n| n * 2);
        assert_eq!(doubled, items.iter().map(|n| n * 2).collect::<Vec<_>>());
    }

    #[test]
    fn owned_items_keep_their_order_too() {
        let items: Vec<String> = (0..1001).map(|n| n.to_string()).collect();
        let lengths = map_owned(items.clone(), |text| text.len());
        assert_eq!(lengths, items.iter().map(String::len).collect::<Vec<_>>());
    }

    #[test]
    fn small_and_empty_inputs_work() {
        assert_eq!(map(&[] as &[u32], |n| *n), Vec::<u32>::new());
        assert_eq!(map(&[7], |n| n + 1), vec![8]);
    }
}
