//! Work spread over the machine's cores with a deterministic result: the output of [`map`] is in the
//! order of its input, whatever the number of threads and however they were scheduled.

use std::num::NonZeroUsize;
use std::thread;

/// Below this many items a batch runs on the calling thread: starting a thread costs more than the
/// work it would take over.
const MIN_PARALLEL_ITEMS: usize = 4;

/// The number of threads to use: the cores available, or 1 when that cannot be known.
pub fn threads() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// `items.iter().map(work).collect()`, computed on up to [`threads`] threads, each taking a contiguous
/// share of `items`.
pub fn map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_owned(items.iter().collect(), work)
}

/// As [`map`], but takes the items by value: each is dropped as soon as `work` is done with it.
pub fn map_owned<T: Send, R: Send>(mut items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = threads().min(items.len() / MIN_PARALLEL_ITEMS).max(1);
    if threads == 1 {
        return items.into_iter().map(work).collect();
    }
    let share = items.len().div_ceil(threads);
    let mut shares = Vec::with_capacity(threads);
    while items.len() > share {
        let rest = items.split_off(share);
        shares.push(items);
        items = rest;
    }
    shares.push(items);
    let work = &work;
    thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| scope.spawn(move || share.into_iter().map(work).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(results) => results,
                // A panic in a worker is a bug; carry it to the caller's thread, where the panic hook
                // reports it.
                Err(payload) => std::panic::resume_unwind(payload),
            })
            .collect()
    })
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
