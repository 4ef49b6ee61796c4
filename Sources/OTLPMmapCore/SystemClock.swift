#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time in nanoseconds since the Unix epoch from clock_gettime (a vDSO call on Linux):
/// the writer's fallback clock and the collector's clock.
package func nowUnixNano() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
