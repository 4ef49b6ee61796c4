import Foundation
import OTLPMmapSpec
import Testing
import TestSupport

/// `gen diff`: each kind of change to the spec, made to a copy of the real spec, is classified
/// exactly as expected — what changed and whom it breaks — and the command reports it as text and
/// JSON with the right exit status, from folders or a git revision.
@Suite struct SpecDiffTests {
    static let spec = TestSupport.repositoryRoot.appendingPathComponent("spec")

    /// An edit of the spec's YAML: `replace` → `with` in layout.yaml or messages.yaml.
    struct Edit: Sendable {
        var file: String, replace: String, with: String
        static func layout(_ replace: String, _ with: String) -> Edit { Edit(file: SpecLoader.layoutFile, replace: replace, with: with) }
        static func messages(_ replace: String, _ with: String) -> Edit { Edit(file: SpecLoader.messagesFile, replace: replace, with: with) }
    }

    struct Fixture: Sendable, CustomTestStringConvertible {
        var name: String
        var edits: [Edit]
        /// "kind subject: audiences" for every change, in report order.
        var expected: [String]
        var verdict: SpecComparison.Verdict
        var testDescription: String { name }
    }

    /// Version 2, listed among the versions after 1.
    static let bump = Edit.layout("  version: 1\n  versions:\n    - version: 1\n      doc: The version the existing implementations (Rust, Java, Python) write and read.\n",
                                  "  version: 2\n  versions:\n    - version: 1\n      doc: The version the existing implementations (Rust, Java, Python) write and read.\n    - version: 2\n      doc: The next one.\n")
    static let all = "readers-of-old-files old-readers-of-new-files writers"

    /// The lines after a FileHeader section field's name and offset, as spec/layout.yaml has them.
    static func sectionField(_ ring: String) -> String {
        let doc = ring == "events" ? "File offset of the events ring (64 in practice)." : "File offset of the \(ring) ring."
        return "        size: 8\n        type: int64\n        atomic: true\n        initial: layout\n        rules: [HDR-SECTION-BOUNDS, HDR-SECTION-ORDER]\n        doc: \(doc)\n"
    }

    static let fixtures: [Fixture] = [
        Fixture(name: "nothing changed", edits: [], expected: [], verdict: .compatible),
        Fixture(name: "version bumped alone", edits: [bump], expected: ["version-bumped format.version: -"], verdict: .compatible),
        Fixture(name: "field moved (two header fields swap places)", edits: [
            .layout("      - name: events\n        offset: 8\n" + Self.sectionField("events") + "      - name: spans\n        offset: 16\n" + Self.sectionField("spans"),
                    "      - name: spans\n        offset: 8\n" + Self.sectionField("spans") + "      - name: events\n        offset: 16\n" + Self.sectionField("events")),
        ], expected: ["field-moved FileHeader.spans: \(all)", "field-moved FileHeader.events: \(all)"], verdict: .breakingWithoutVersionBump),
        Fixture(name: "field resized and retyped", edits: [
            .layout("      - name: num_entries\n        offset: 8\n        size: 8\n        type: int64\n", "      - name: num_entries\n        offset: 8\n        size: 4\n        type: int32\n"),
            .layout("      - name: reserved\n        offset: 16\n        size: 48\n", "      - name: reserved\n        offset: 12\n        size: 52\n"),
        ], expected: ["field-resized DictionaryHeader.num_entries: \(all)", "field-retyped DictionaryHeader.num_entries: \(all)"], verdict: .breakingWithoutVersionBump),
        Fixture(name: "field retyped at the same size", edits: [
            .layout("      - name: start_time_unix_nano\n        offset: 40\n        size: 8\n        type: uint64\n", "      - name: start_time_unix_nano\n        offset: 40\n        size: 8\n        type: int64\n"),
        ], expected: ["field-retyped FileHeader.start_time_unix_nano: \(all)"], verdict: .breakingWithoutVersionBump),
        Fixture(name: "reserved bytes taken, with a version bump", edits: [bump,
            .layout("      - name: reserved\n        offset: 48\n        size: 16\n", "      - name: writer_pid\n        offset: 48\n        size: 8\n        type: int64\n        initial: 0\n        doc: The writer's process id.\n      - name: reserved\n        offset: 56\n        size: 8\n"),
        ], expected: ["version-bumped format.version: -", "reserved-taken FileHeader.writer_pid: old-readers-of-new-files"], verdict: .compatibleWithVersionBump),
        Fixture(name: "reserved bytes taken without a version bump", edits: [
            .layout("      - name: reserved\n        offset: 48\n        size: 16\n", "      - name: writer_pid\n        offset: 48\n        size: 8\n        type: int64\n        initial: 0\n        doc: The writer's process id.\n      - name: reserved\n        offset: 56\n        size: 8\n"),
        ], expected: ["reserved-taken FileHeader.writer_pid: old-readers-of-new-files"], verdict: .breakingWithoutVersionBump),
        Fixture(name: "a ring, its section and its header field removed", edits: [
            .layout("    - name: measurements\n      ring: measurements\n      located_by: FileHeader.measurements\n", ""),
            .layout("  - name: measurements\n    record: Measurement\n    doc: Metric measurements; the metric is described by a MetricRef entry in the dictionary.\n", ""),
            .layout("      - name: measurements\n        offset: 24\n        size: 8\n        type: int64\n        atomic: true\n        initial: layout\n        rules: [HDR-SECTION-BOUNDS, HDR-SECTION-ORDER]\n",
                    "      - name: spare\n        offset: 24\n        size: 8\n        type: reserved\n        initial: 0\n        rules: [HDR-RESERVED]\n"),
        ], expected: ["field-removed FileHeader.measurements: \(all)", "section-removed file.measurements: \(all)", "ring-removed rings.measurements: \(all)"],
           verdict: .breakingWithoutVersionBump),
        Fixture(name: "record fields renumbered, retyped, removed, added", edits: [
            .messages("          - {name: parent_span_id, number: 4, type: bytes}\n          - {name: name, number: 5, type: string}\n",
                      "          - {name: parent_span_id, number: 4, type: bytes}\n          - {name: name, number: 8, type: string}\n"),
            .messages("          - {name: end_time_unix_nano, number: 8, type: fixed64}", "          - {name: end_time_unix_nano, number: 8, type: int64}"),
            .messages("              - {name: trace_state, number: 3, type: string}\n", ""),
            .messages("              - {name: flags, number: 6, type: fixed32}\n", "              - {name: flags, number: 6, type: fixed32}\n              - {name: note, number: 7, type: string}\n"),
        ], expected: ["message-field-renumbered StartSpan.name: \(all)", "message-field-retyped EndSpan.end_time_unix_nano: \(all)",
                      "message-field-removed Link.trace_state: readers-of-old-files old-readers-of-new-files", "message-field-added Link.note: -"],
           verdict: .breakingWithoutVersionBump),
        Fixture(name: "a record field added to an existing oneof", edits: [bump,
            .messages("      - {name: link, number: 15, type: AddLink, oneof: event, rules: [REC-SPAN-EVENT]}\n",
                      "      - {name: link, number: 15, type: AddLink, oneof: event, rules: [REC-SPAN-EVENT]}\n      - {name: rename_again, number: 16, type: ChangeSpanName, oneof: event, rules: [REC-SPAN-EVENT]}\n"),
        ], expected: ["version-bumped format.version: -", "message-field-added SpanEvent.rename_again: old-readers-of-new-files"], verdict: .compatibleWithVersionBump),
        Fixture(name: "an enum value removed and one added", edits: [
            .messages("          - {name: STATUS_CODE_ERROR, number: 2}\n", "          - {name: STATUS_CODE_CANCELLED, number: 3}\n"),
        ], expected: ["enum-value-removed StatusCode.STATUS_CODE_ERROR: readers-of-old-files writers", "enum-value-added StatusCode.STATUS_CODE_CANCELLED: -"],
           verdict: .breakingWithoutVersionBump),
        Fixture(name: "rules added, removed, made stricter", edits: [
            .layout("  - id: HDR-START-TIME\n    level: SHOULD\n", "  - id: HDR-START-TIME\n    level: MUST\n"),
            .layout("  - id: REC-ENUM\n    level: SHOULD\n    origin: project\n    golden: [invalid/rec-enum.otlpmmap]\n    text: Enum fields hold values the schema lists.\n",
                    "  - id: REC-ENUM\n    level: SHOULD\n    origin: project\n    golden: [invalid/rec-enum.otlpmmap]\n    text: Enum fields hold values the schema lists.\n  - id: REC-NEW-MUST\n    level: MUST\n    origin: project\n    text: Something new.\n  - id: REC-NEW-SHOULD\n    level: SHOULD\n    origin: project\n    text: Something advised.\n"),
        ], expected: ["rule-level-changed HDR-START-TIME: readers-of-old-files writers", "rule-added REC-NEW-MUST: readers-of-old-files writers", "rule-added REC-NEW-SHOULD: -"],
           verdict: .breakingWithoutVersionBump),
        Fixture(name: "a MUST rule relaxed and a SHOULD rule removed", edits: [
            .layout("  - id: HDR-SIZE\n    level: MUST\n", "  - id: HDR-SIZE\n    level: SHOULD\n"),
            .layout("  - id: REC-ENUM\n    level: SHOULD\n    origin: project\n    golden: [invalid/rec-enum.otlpmmap]\n    text: Enum fields hold values the schema lists.\n", ""),
        ], expected: ["rule-removed REC-ENUM: -", "rule-level-changed HDR-SIZE: old-readers-of-new-files"], verdict: .breakingWithoutVersionBump),
    ]

    /// A copy of the real spec with `edits` applied; every edit must have changed something.
    static func edited(_ edits: [Edit], label: String) throws -> URL {
        let folder = try TestSupport.temporaryDirectory(label).appendingPathComponent("spec")
        try FileManager.default.copyItem(at: spec, to: folder)
        for edit in edits {
            let url = folder.appendingPathComponent(edit.file)
            let text = try String(contentsOf: url, encoding: .utf8)
            let changed = text.replacingOccurrences(of: edit.replace, with: edit.with)
            guard changed != text else { throw EditDidNotApply(text: edit.replace) }
            try changed.write(to: url, atomically: true, encoding: .utf8)
        }
        return folder
    }

    struct EditDidNotApply: Error, CustomStringConvertible {
        var text: String
        var description: String { "the fixture's edit no longer matches spec/: \(text)" }
    }

    static func summary(_ comparison: SpecComparison) -> [String] {
        comparison.changes.map { "\($0.kind.rawValue) \($0.subject): \($0.breaks.isEmpty ? "-" : $0.breaks.map(\.rawValue).joined(separator: " "))" }
    }

    @Test(arguments: fixtures)
    func eachKindOfChangeIsClassified(_ fixture: Fixture) throws {
        let folder = try Self.edited(fixture.edits, label: "diff-\(fixture.name.prefix(20))")
        let (old, oldSources) = try SpecSnapshot.load(folder: Self.spec, display: "old")
        let (new, newSources) = try SpecSnapshot.load(folder: folder, display: "new")
        let comparison = SpecDiff.compare(old, new, oldSources: oldSources, newSources: newSources)
        #expect(Self.summary(comparison) == fixture.expected)
        #expect(comparison.verdict == fixture.verdict)
        #expect(comparison.exitStatus == (fixture.verdict == .breakingWithoutVersionBump ? 1 : 0))
        for change in comparison.changes {
            #expect(change.file.hasPrefix(change.kind.rawValue.hasSuffix("removed") ? "old/" : "new/") && change.line > 0 || change.kind == .versionBumped, "\(change)")
        }
    }

    @Test func theReverseOfARemovedRingIsAnAddedOneInReservedBytes() throws {
        let removed = try #require(Self.fixtures.first { $0.name.hasPrefix("a ring") })
        let folder = try Self.edited(removed.edits, label: #function)
        let (old, oldSources) = try SpecSnapshot.load(folder: folder, display: "old")
        let (new, newSources) = try SpecSnapshot.load(folder: Self.spec, display: "new")
        #expect(Self.summary(SpecDiff.compare(old, new, oldSources: oldSources, newSources: newSources)) == [
            "reserved-taken FileHeader.measurements: old-readers-of-new-files", "section-added file.measurements: \(Self.all)", "ring-added rings.measurements: \(Self.all)",
        ])
    }

    // MARK: the command

    @Test func theCommandReportsTextAndJSONWithItsExitStatus() async throws {
        let moved = try #require(Self.fixtures.first { $0.name.hasPrefix("field moved") })
        let folder = try Self.edited(moved.edits, label: #function)
        let text = try await TestSupport.run(["gen", "diff", Self.spec.path, folder.path])
        #expect(text.status == 1, "\(text.stderr)")
        #expect(text.stdout.contains("BREAKING    field-moved  FileHeader.spans: offset 16 → 8"), "\(text.stdout)")
        #expect(text.stdout.contains("\(folder.path)/layout.yaml:"), "\(text.stdout)")
        #expect(text.stdout.contains("verdict: breaking-without-version-bump"), "\(text.stdout)")

        let json = try await TestSupport.run(["gen", "diff", "--format", "json", Self.spec.path, folder.path])
        #expect(json.status == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(report["verdict"] as? String == "breaking-without-version-bump")
        #expect(report["versionBumped"] as? Bool == false)
        let changes = try #require(report["changes"] as? [[String: Any]])
        #expect(changes.map { $0["kind"] as? String } == ["field-moved", "field-moved"])
        #expect(changes.first?["breaks"] as? [String] == ["readers-of-old-files", "old-readers-of-new-files", "writers"])

        let same = try await TestSupport.run(["gen", "diff", Self.spec.path, Self.spec.path])
        #expect(same.status == 0 && same.stdout.contains("no changes") && same.stdout.contains("verdict: compatible"), "\(same.stdout)")
    }

    @Test func againstAGitRevisionComparesTheCommittedSpec() async throws {
        let repository = try TestSupport.temporaryDirectory()
        try FileManager.default.copyItem(at: Self.spec, to: repository.appendingPathComponent("spec"))
        for arguments in [["init", "-q"], ["add", "spec"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "spec"]] {
            let git = try await TestSupport.run(["git", "-C", repository.path] + arguments, executable: "/usr/bin/env")
            try #require(git.status == 0, "git \(arguments): \(git.stderr)")
        }
        let layout = repository.appendingPathComponent("spec/layout.yaml")
        let text = try String(contentsOf: layout, encoding: .utf8)
        let bumped = text.replacingOccurrences(of: Self.bump.replace, with: Self.bump.with)
        try #require(bumped != text)
        try bumped.write(to: layout, atomically: true, encoding: .utf8)
        let result = try await TestSupport.run(["gen", "diff", "--against", "HEAD", "--root", repository.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("gen diff: HEAD:spec (version 1) → spec (version 2)"), "\(result.stdout)")
        #expect(result.stdout.contains("version-bumped"), "\(result.stdout)")

        let unknown = try await TestSupport.run(["gen", "diff", "--against", "no-such-branch", "--root", repository.path])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no-such-branch:spec/layout.yaml: git show failed"), "\(unknown.stderr)")
    }

    @Test func specsThatCannotBeComparedAreNamedWithTheirFileAndLine() async throws {
        let missing = try await TestSupport.run(["gen", "diff", Self.spec.path, "/no/such/spec"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("error: /no/such/spec: no such spec folder"), "\(missing.stderr)")

        let broken = try Self.edited([.messages("      - name: StartSpan\n        doc: Opens a span.\n", "      - name: StartSpan\n        doc: [unclosed\n")], label: #function)
        let yaml = try await TestSupport.run(["gen", "diff", Self.spec.path, broken.path])
        #expect(yaml.status == 2)
        #expect(yaml.stderr.contains("\(broken.path)/messages.yaml:"), "\(yaml.stderr)")
        let rejected = try Self.edited([.layout("      - name: spans\n        offset: 16\n", "      - name: spans\n        offset: 17\n")], label: "rejected")
        let loader = try await TestSupport.run(["gen", "diff", Self.spec.path, rejected.path])
        #expect(loader.status == 2)
        #expect(loader.stderr.contains("\(rejected.path)/layout.yaml:"), "\(loader.stderr)")
        #expect(!loader.stderr.contains("Fatal error"))
    }
}
