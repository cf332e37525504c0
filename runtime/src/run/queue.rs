//! The run queue as pure bookkeeping: which waiting task may start next
//! under the global and per-class caps, in priority order. No clocks, no
//! I/O, no async: the scheduler asks it, and tests check it directly.

use std::collections::HashMap;

use crate::manifest::Task;

/// Something the queue can hold: all it needs to know is its class.
pub trait Queued {
    fn class(&self) -> Option<&str>;
}

impl Queued for Task {
    fn class(&self) -> Option<&str> {
        self.class.as_deref()
    }
}

/// Waiting items in start order and the slots taken by running ones.
pub struct Queue<T> {
    waiting: Vec<T>,
    running: usize,
    max_running: usize,
    class_running: HashMap<String, usize>,
    class_caps: HashMap<String, usize>,
}

impl<T: Queued> Queue<T> {
    /// `waiting` is already in priority order (see `Plan`); a class without
    /// a cap is unlimited.
    pub fn new(waiting: Vec<T>, max_running: usize, class_caps: HashMap<String, usize>) -> Self {
        Queue {
            waiting,
            running: 0,
            max_running: max_running.max(1),
            class_running: HashMap::new(),
            class_caps,
        }
    }

    /// Takes the first waiting item whose caps allow it to start now, and
    /// counts it as running. An item whose class is full is passed over, so
    /// a full class never holds back a task of another class.
    pub fn next(&mut self) -> Option<T> {
        if self.running >= self.max_running {
            return None;
        }
        let index = self.waiting.iter().position(|item| {
            item.class().is_none_or(|class| {
                let running = self.class_running.get(class).copied().unwrap_or(0);
                running < self.class_caps.get(class).copied().unwrap_or(usize::MAX)
            })
        })?;
        let item = self.waiting.remove(index);
        self.running += 1;
        if let Some(class) = item.class() {
            *self.class_running.entry(class.to_owned()).or_default() += 1;
        }
        Some(item)
    }

    /// Frees the slots of an item that was running.
    pub fn finished(&mut self, item: &T) {
        self.running = self.running.saturating_sub(1);
        if let Some(class) = item.class()
            && let Some(running) = self.class_running.get_mut(class)
        {
            *running = running.saturating_sub(1);
        }
    }

    pub fn running(&self) -> usize {
        self.running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Item(&'static str, Option<&'static str>);

    impl Queued for Item {
        fn class(&self) -> Option<&str> {
            self.1
        }
    }

    fn queue(items: Vec<Item>, max: usize, caps: &[(&str, usize)]) -> Queue<Item> {
        let caps = caps.iter().map(|(c, n)| (c.to_string(), *n)).collect();
        Queue::new(items, max, caps)
    }

    fn names(items: impl IntoIterator<Item = Item>) -> Vec<&'static str> {
        items.into_iter().map(|item| item.0).collect()
    }

    fn drain(queue: &mut Queue<Item>) -> Vec<Item> {
        std::iter::from_fn(|| queue.next()).collect()
    }

    #[test]
    fn starts_in_the_given_order_up_to_the_global_cap() {
        let mut queue = queue(
            vec![Item("a", None), Item("b", None), Item("c", None)],
            2,
            &[],
        );
        let first = drain(&mut queue);
        assert_eq!(names(first), ["a", "b"]);
        assert_eq!(queue.running(), 2);
        queue.finished(&Item("a", None));
        assert_eq!(names(drain(&mut queue)), ["c"]);
        assert!(queue.next().is_none());
    }

    #[test]
    fn a_full_class_is_passed_over_without_blocking_others() {
        let mut queue = queue(
            vec![
                Item("io1", Some("io")),
                Item("io2", Some("io")),
                Item("cpu", None),
                Item("io3", Some("io")),
            ],
            3,
            &[("io", 1)],
        );
        assert_eq!(names(drain(&mut queue)), ["io1", "cpu"]);
        queue.finished(&Item("io1", Some("io")));
        assert_eq!(names(drain(&mut queue)), ["io2"]);
        queue.finished(&Item("cpu", None));
        assert!(queue.next().is_none(), "io is full again");
        queue.finished(&Item("io2", Some("io")));
        assert_eq!(names(drain(&mut queue)), ["io3"]);
    }

    #[test]
    fn a_class_without_a_cap_is_only_bounded_globally() {
        let mut queue = queue(vec![Item("a", Some("x")), Item("b", Some("x"))], 4, &[]);
        assert_eq!(names(drain(&mut queue)), ["a", "b"]);
    }

    #[test]
    fn a_zero_global_cap_still_runs_one() {
        let mut queue = queue(vec![Item("a", None), Item("b", None)], 0, &[]);
        assert_eq!(names(drain(&mut queue)), ["a"]);
    }
}
