import ArgumentParser
import Foundation
import OTLPMmapReferenceTestee

/// The reference writer as a testee: `otlp-mmap conform run -- otlp-mmap testee`.
struct TesteeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testee",
        abstract: "Serve the testee protocol on standard input and output with the reference writer (for conform run and conform fuzz).",
        discussion: "--break RULE breaks one rule on purpose, so that tests can show the runner reports exactly that rule."
    )

    @Option(name: .customLong("break"), help: "Break a rule on purpose: \(ReferenceTestee.Defect.allCases.map(\.rawValue).joined(separator: ", ")).")
    var breakRule: String?

    @Option(help: "Misbehave in a way only content comparison finds: \(ReferenceTestee.Bug.allCases.map(\.rawValue).joined(separator: ", ")).")
    var bug: String?

    @Option(help: "Milliseconds a record waits for room in a full ring before it is dropped, when create_file does not say (its full_ring_wait_micros is 0).")
    var fullRingWaitMs: Int = 100

    func validate() throws {
        if let breakRule, ReferenceTestee.Defect(rawValue: breakRule) == nil {
            throw ValidationError("--break takes one of \(ReferenceTestee.Defect.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let bug, ReferenceTestee.Bug(rawValue: bug) == nil {
            throw ValidationError("--bug takes one of \(ReferenceTestee.Bug.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let testee = ReferenceTestee(defect: breakRule.flatMap(ReferenceTestee.Defect.init), bug: bug.flatMap(ReferenceTestee.Bug.init), fullRingWait: .milliseconds(fullRingWaitMs))
        // The runner's --channel fds: commands and replies on the descriptors it names, standard output left free.
        if let descriptors = ProcessInfo.processInfo.environment["OTLP_MMAP_TESTEE_FDS"] {
            let numbers = descriptors.split(separator: ",").compactMap { Int32($0) }
            guard numbers.count == 2 else { throw ValidationError("OTLP_MMAP_TESTEE_FDS is \(descriptors): expected two descriptors, such as 3,4") }
            try testee.serve(input: FileHandle(fileDescriptor: numbers[0]), output: FileHandle(fileDescriptor: numbers[1]))
        } else {
            try testee.serve(input: .standardInput, output: .standardOutput)
        }
    }
}
