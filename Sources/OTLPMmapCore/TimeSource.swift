/// The two clocks a long-running consumer needs, kept apart on purpose.
///
/// Every deadline, timeout and age is measured on `monotonic` (nanoseconds of a `Clock` since the
/// source was made): stepping the wall clock back an hour or forward a day must not make slots
/// count as holes or spans expire. `wall` gives Unix nanoseconds and is used only for the
/// timestamps that are written or exported. Production uses `ContinuousClock`; tests inject a clock
/// they advance by hand, and a wall clock they step.
package struct TimeSource: Sendable {
    /// Nanoseconds of the monotonic clock since this source was made, plus `origin`.
    package let monotonic: @Sendable () -> UInt64
    /// Suspends until `monotonic` reaches the given value (at once if it has); throws when cancelled.
    package let sleepUntil: @Sendable (UInt64) async throws -> Void
    /// Unix nanoseconds, for timestamps only.
    package let wall: @Sendable () -> UInt64

    /// What `monotonic` reads when the source is made: 2^50 ns (about 13 days), so that an
    /// instant before it — now minus an age restored from a checkpoint — is still a plain count.
    package static let origin: UInt64 = 1 << 50

    package init<C: Clock>(clock: C, wall: @escaping @Sendable () -> UInt64 = nowUnixNano) where C.Duration == Duration {
        let start = clock.now
        monotonic = { Self.origin &+ start.duration(to: clock.now).wholeNanoseconds }
        sleepUntil = { deadline in
            guard deadline > Self.origin else { return }
            try await clock.sleep(until: start.advanced(by: .nanoseconds(Int64(clamping: deadline - Self.origin))), tolerance: nil)
        }
        self.wall = wall
    }

    /// ContinuousClock and CLOCK_REALTIME.
    package static var system: TimeSource { TimeSource(clock: ContinuousClock()) }

    package func sleep(for duration: Duration) async throws {
        let now = monotonic()
        try await sleepUntil(now.addingReportingOverflow(duration.wholeNanoseconds).overflow ? .max : now + duration.wholeNanoseconds)
    }
}
