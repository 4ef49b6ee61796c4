import Foundation

/// `conform collector`: runs a collector under test between a file the testbed writes live and a
/// real OTLP receiver the testbed hosts, and checks what arrives against what was written. Every
/// failure names a check of spec/readers.yaml (`ReaderCheck`). A collector that cannot start,
/// crashes, hangs or stops exporting fails within the scenario's time bounds: each wait is bounded
/// (a scenario's `wait_arrived` by its `within_ms`, the final wait by `exportTimeout`, the stop by
/// `stopTimeout`), so the testbed never hangs.
///
/// This file holds the testbed's settings, their defaults (which the command's help shows) and
/// their validation; running it is in CollectorTestbed.swift.
package struct CollectorTestbed: Sendable {
    package var command: [String]
    /// How long the testbed waits, after the last step, for what the file holds to arrive.
    package var exportTimeout: Duration = .seconds(30)
    /// The collector's peak resident memory may not pass this (READ-BOUNDED-MEMORY).
    package var maxResidentBytes = 1 << 30
    /// How long the collector may take to stop after SIGTERM (then SIGKILL).
    package var stopTimeout: Duration = .seconds(10)
    /// How long a record waits for room in a full ring before the writer drops it.
    package var fullRingWait: Duration = .seconds(2)

    package init(command: [String]) { self.command = command }

    /// The defaults, for help texts.
    package static let defaults = CollectorTestbed(command: [])

    /// Why these settings cannot run, or nil.
    package func problem() -> String? {
        if command.isEmpty { return "give the collector's command after --" }
        if exportTimeout <= .zero || stopTimeout <= .zero { return "the export and stop timeouts must be positive" }
        if maxResidentBytes <= 0 { return "the memory bound must be positive" }
        return nil
    }
}
