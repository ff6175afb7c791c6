//! The process's CPU clock, for the benchmarks of this folder (`#[path]`-included).

/// This process's CPU time (user + system, every thread, living or ended), in nanoseconds:
/// `CLOCK_PROCESS_CPUTIME_ID`, exact to the nanosecond (`/proc/self/stat` counts 10 ms ticks,
/// which alone moved a 2,000-query measure by several per cent).
#[cfg(unix)]
pub fn process_cpu_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to write; the clock id is a constant.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    if rc != 0 {
        return 0;
    }
    u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
}

/// Elsewhere these benchmarks do not measure CPU (they run on Linux).
#[cfg(not(unix))]
pub fn process_cpu_ns() -> u64 {
    0
}
