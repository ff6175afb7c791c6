//! Connection pools per process. A child made by `fork()` (gunicorn `--preload`, uWSGI,
//! Celery's prefork pool, `multiprocessing`) inherits its parent's open keep-alive connections:
//! were both processes to send on one of them, each could read the other's reply (seen: a
//! query answered with another process's order, and a request left waiting for a reply the
//! other process had read). So a process uses only the connections it opened itself.

use std::sync::Mutex;

/// A value (a connection pool) made for the process that uses it. In the process that made it,
/// [`PerProcess::get`] costs a `getpid`; a forked child makes its own with `make` on first use
/// and leaves the inherited one alone: never used, and never dropped there either, since
/// dropping a pool may shut down or close connections (TLS `close_notify`) the parent still
/// uses. The inherited one's memory and file descriptors are the child's small price.
pub(crate) struct PerProcess<T> {
    pid: u32,
    /// Made in `pid`; `None` only while being dropped.
    first: Option<T>,
    /// The value of the forked process using this one (the pid it was made in).
    forked: Mutex<Option<(u32, T)>>,
}

impl<T: Clone> PerProcess<T> {
    /// `value`, made in this process.
    pub(crate) fn new(value: T) -> Self {
        PerProcess {
            pid: std::process::id(),
            first: Some(value),
            forked: Mutex::new(None),
        }
    }

    /// This process's value: the first one in the process that made it, else (after a fork)
    /// one made by `make` for this process.
    pub(crate) fn get<E>(&self, make: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let pid = std::process::id();
        if pid == self.pid {
            if let Some(v) = &self.first {
                return Ok(v.clone());
            }
        }
        let mut forked = self.forked.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((p, v)) = forked.as_ref() {
            if *p == pid {
                return Ok(v.clone());
            }
        }
        let v = make()?;
        // A value made in another process (this one's parent, which forked again): left alone.
        if let Some(old) = forked.replace((pid, v.clone())) {
            std::mem::forget(old);
        }
        Ok(v)
    }

    /// [`PerProcess::get`] with a `make` that cannot fail.
    pub(crate) fn get_or_make(&self, make: impl FnOnce() -> T) -> T {
        self.get(|| Ok::<_, std::convert::Infallible>(make()))
            .unwrap_or_else(|never| match never {})
    }
}

impl<T> Drop for PerProcess<T> {
    fn drop(&mut self) {
        let pid = std::process::id();
        if pid != self.pid {
            // Inherited: not ours to close (see the type's doc).
            std::mem::forget(self.first.take());
        }
        let forked = self.forked.get_mut().unwrap_or_else(|e| e.into_inner());
        if forked.as_ref().is_some_and(|(p, _)| *p != pid) {
            std::mem::forget(forked.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn the_process_that_made_it_gets_the_first_value_without_making_another() {
        let made = AtomicUsize::new(0);
        let p = PerProcess::new(Arc::new(7));
        for _ in 0..3 {
            let v = p.get(|| {
                made.fetch_add(1, Ordering::Relaxed);
                Ok::<_, ()>(Arc::new(8))
            });
            assert_eq!(v.map(|v| *v), Ok(7));
        }
        assert_eq!(made.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn another_process_gets_its_own_value_made_once_and_the_inherited_one_is_not_dropped() {
        // A value "made in another process" (as a forked child sees its parent's).
        let first = Arc::new(1);
        let mut p = PerProcess::new(first.clone());
        p.pid = std::process::id().wrapping_add(1);
        let made = AtomicUsize::new(0);
        let make = || {
            made.fetch_add(1, Ordering::Relaxed);
            Ok::<_, ()>(Arc::new(2))
        };
        assert_eq!(p.get(make).map(|v| *v), Ok(2));
        assert_eq!(p.get(make).map(|v| *v), Ok(2));
        assert_eq!(made.load(Ordering::Relaxed), 1);
        drop(p);
        // Not dropped (leaked): its strong count still counts the pool's reference.
        assert_eq!(Arc::strong_count(&first), 2);
    }
}
