import Foundation
import OTLPMmapSpec
import Testing
import TestSupport

/// Each kind of broken schema is rejected with a message and the line of the YAML that breaks it.
/// The broken schemas are the real spec with one edit, so the tests follow the spec as it evolves.
@Suite struct SpecLoaderTests {
    static let specFolder = TestSupport.repositoryRoot.appendingPathComponent("spec")
    static let layout = try! String(contentsOf: specFolder.appendingPathComponent("layout.yaml"), encoding: .utf8)
    static let messages = try! String(contentsOf: specFolder.appendingPathComponent("messages.yaml"), encoding: .utf8)

    /// One edit of one spec file, the line the error must name (relative to the edited line) and a
    /// piece of the message.
    struct BrokenSchema: CustomTestStringConvertible, Sendable {
        var name: String
        var inMessages = false
        var after: String?
        var old: String
        var new: String
        var lineOffset = 0
        var message: String
        var testDescription: String { name }
    }

    static let broken: [BrokenSchema] = [
        BrokenSchema(name: "overlapping fields", after: "- name: start_time_unix_nano\n", old: "offset: 48", new: "offset: 44", lineOffset: -1,
                     message: "field 'reserved' at offset 44 overlaps the previous field, which ends at 48"),
        BrokenSchema(name: "misaligned atomic field", after: "- name: spans\n", old: "offset: 16", new: "offset: 12",
                     message: "atomic field 'spans' at offset 12 is not aligned"),
        BrokenSchema(name: "size not matching its type", after: "- name: num_buffers\n", old: "size: 8", new: "size: 4",
                     message: "size 4 does not match type int64"),
        BrokenSchema(name: "unknown type", after: "- name: buffer_size\n", old: "type: int64", new: "type: int63",
                     message: "unknown type 'int63'"),
        BrokenSchema(name: "duplicate rule ID", old: "  - id: HDR-RESERVED\n", new: "  - id: HDR-VERSION\n",
                     message: "duplicate rule ID 'HDR-VERSION'"),
        BrokenSchema(name: "structure size not its fields' size", after: "- name: DictionaryHeader\n", old: "size: 64", new: "size: 72",
                     message: "fields end at 64"),
        BrokenSchema(name: "misspelt key", after: "- name: writer_index\n", old: "atomic: true", new: "atomik: true",
                     message: "unknown key 'atomik'"),
        BrokenSchema(name: "unknown rule cited", old: "rules: [RING-POW2]", new: "rules: [RING-POW3]", lineOffset: -5,
                     message: "unknown rule 'RING-POW3'"),
        BrokenSchema(name: "ring of an unknown message", old: "record: SpanEvent", new: "record: SpanEvents", lineOffset: -1,
                     message: "unknown message 'SpanEvents'"),
        BrokenSchema(name: "duplicate field number", inMessages: true, old: "{name: span_id, number: 2, type: bytes, length: 8",
                     new: "{name: span_id, number: 1, type: bytes, length: 8", message: "clashes with field 'trace_id'"),
        BrokenSchema(name: "unknown message type", inMessages: true, old: "type: EndSpan, oneof: event", new: "type: StopSpan, oneof: event",
                     message: "unknown type 'StopSpan'"),
        BrokenSchema(name: "reserved field number used", inMessages: true, old: "{name: message, number: 2, type: string}",
                     new: "{name: message, number: 1, type: string}", message: "reserved"),
        BrokenSchema(name: "a field since an unknown version", after: "- name: start_time_unix_nano\n", old: "offset: 40", new: "offset: 40\n        since: 3", lineOffset: -1,
                     message: "since: 3 is not a version of `versions`"),
        BrokenSchema(name: "deprecated from an unknown version", after: "- name: start_time_unix_nano\n", old: "offset: 40",
                     new: "offset: 40\n        since: 1\n        deprecated: 0", lineOffset: -1, message: "deprecated: 0 must be a version of `versions`"),
        BrokenSchema(name: "the version not the last listed", old: "  version: 1\n", new: "  version: 2\n", message: "version 2 must be the last of `versions` (1)"),
        BrokenSchema(name: "a record field since an unknown version", inMessages: true, old: "{name: severity_text, number: 4, type: string}",
                     new: "{name: severity_text, number: 4, type: string, since: 2}", message: "since and deprecated must be versions"),
        BrokenSchema(name: "message cycle through singular fields", inMessages: true,
                     old: "{name: values, number: 1, type: AnyValue, repeated: true}", new: "{name: values, number: 1, type: AnyValue}",
                     message: "message cycle through singular fields"),
    ]

    /// Replaces the first occurrence of `old` after `anchor` and returns the text and the 1-based line
    /// of the replacement.
    static func edit(_ text: String, after anchor: String?, _ old: String, _ new: String) throws -> (String, Int) {
        var searchStart = text.startIndex
        if let anchor { searchStart = try #require(text.range(of: anchor)).upperBound }
        let range = try #require(text.range(of: old, range: searchStart..<text.endIndex))
        let line = text[..<range.lowerBound].filter { $0 == "\n" }.count + 1
        return (text.replacingCharacters(in: range, with: new), line)
    }

    static func loadError(layout: String = layout, messages: String = messages) -> SpecError? {
        do {
            _ = try SpecLoader.load(layoutYAML: layout, messagesYAML: messages)
            return nil
        } catch let error as SpecError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func theRealSpecLoads() throws {
        let spec = try SpecLoader.load(layoutYAML: Self.layout, messagesYAML: Self.messages)
        #expect(spec.layout.structures.map(\.name) == ["FileHeader", "RingHeader", "DictionaryHeader"])
        #expect(spec.layout.rules.count >= 30)
        #expect(spec.layout.rings.map(\.record) == ["Event", "SpanEvent", "Measurement"])
    }

    @Test(arguments: broken)
    func aBrokenSchemaIsRejectedAtItsLine(_ broken: BrokenSchema) throws {
        let original = broken.inMessages ? Self.messages : Self.layout
        let (text, line) = try Self.edit(original, after: broken.after, broken.old, broken.new)
        let error = try #require(broken.inMessages ? Self.loadError(messages: text) : Self.loadError(layout: text))
        #expect(error.file == (broken.inMessages ? "spec/messages.yaml" : "spec/layout.yaml"))
        #expect(error.line == line + broken.lineOffset, "\(error)")
        #expect(error.message.contains(broken.message), "\(error)")
    }

    static let testee = try! String(contentsOf: specFolder.appendingPathComponent("testee.yaml"), encoding: .utf8)

    @Test func theRunnersChecksLoadFromTheTesteeSpec() throws {
        let spec = try SpecLoader.load(layoutYAML: Self.layout, messagesYAML: Self.messages, testeeYAML: Self.testee)
        let checks = try #require(spec.testee?.checks)
        #expect(checks.contains { $0.id == "CONTENT-LOST" && $0.level == .must })
        #expect(checks.contains { $0.id == "REPLY-TOO-LARGE" && $0.level == .should })
    }

    static let readers = try! String(contentsOf: specFolder.appendingPathComponent("readers.yaml"), encoding: .utf8)

    /// spec/readers.yaml: what a reader must do, each check with where it comes from.
    @Test func theReadersChecksLoadWithTheirOrigins() throws {
        let spec = try SpecLoader.load(directory: Self.specFolder)
        let checks = try #require(spec.readers?.checks)
        #expect(checks.count >= 12)
        #expect(checks.allSatisfy { $0.origin != nil && !($0.source ?? "").isEmpty && !$0.text.isEmpty })
        // The defects of the existing collector that protocol.md §6 and §7 name each have a check.
        for id in ["READ-SKIP-HOLE", "READ-SKIP-BAD", "READ-EMPTY-ONEOF", "READ-AT-LEAST-ONCE"] {
            #expect(checks.first { $0.id == id }?.origin == .defect, "\(id)")
        }
        // The OTLP specification says MUST NOT retry a partial success; keeping apart is this project's SHOULD.
        #expect(checks.first { $0.id == "READ-PARTIAL-SUCCESS" }?.level == .must)
        #expect(checks.first { $0.id == "READ-SIGNALS-APART" }?.level == .should)
    }

    /// A reader check names where it comes from, and takes no ID a rule or a testee check has.
    @Test(arguments: [
        ("    origin: defect\n", "    origin: folklore\n", "origin must be protocol, defect, otlp or project"),
        ("  - id: READ-SKIP-BAD\n", "  - id: RING-HOLE\n", "check ID 'RING-HOLE' is already a rule of spec/layout.yaml or a check of spec/testee.yaml"),
        ("  - id: READ-SKIP-BAD\n", "  - id: CONTENT-LOST\n", "check ID 'CONTENT-LOST' is already a rule"),
        ("  - id: READ-SKIP-HOLE\n", "  - id: READ-SKIP-BAD\n", "duplicate check ID 'READ-SKIP-BAD'"),
        ("    origin: otlp\n", "    provenance: otlp\n", "provenance"),
    ])
    func aBrokenReaderCheckIsRejectedAtItsLine(_ old: String, _ new: String, _ message: String) throws {
        let (text, line) = try Self.edit(Self.readers, after: nil, old, new)
        do {
            _ = try SpecLoader.load(layoutYAML: Self.layout, messagesYAML: Self.messages, testeeYAML: Self.testee, readersYAML: text)
            Issue.record("a broken reader check loaded")
        } catch let error as SpecError {
            #expect(error.file == "spec/readers.yaml")
            #expect(abs(error.line - line) <= 1, "\(error) (edited line \(line))")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func aReaderCheckWithoutASourceIsRejected() throws {
        let text = Self.readers.replacingOccurrences(of: "    source: OTLP specification, Partial Success (the client must not retry a request answered with partial_success populated)\n", with: "")
        #expect(text != Self.readers)
        do {
            _ = try SpecLoader.load(layoutYAML: Self.layout, messagesYAML: Self.messages, testeeYAML: Self.testee, readersYAML: text)
            Issue.record("a reader check without a source loaded")
        } catch let error as SpecError {
            #expect(error.file == "spec/readers.yaml" && error.message.contains("source"), "\(error)")
        }
    }

    /// A check may not take a rule's ID (a failure list could not tell them apart), nor be a SHOUT-less
    /// name, nor sit in messages.yaml.
    @Test(arguments: [
        ("  - id: CONTENT-LOST\n", "  - id: RING-HOLE\n", "check ID 'RING-HOLE' is already a rule of spec/layout.yaml"),
        ("  - id: CONTENT-LOST\n", "  - id: lost\n", "check ID 'lost' must look like AREA-NAME"),
        ("  - id: CONTENT-ORDER\n    level: MUST\n", "  - id: CONTENT-ORDER\n    level: MAY\n", "level must be MUST or SHOULD"),
    ])
    func aBrokenCheckIsRejectedAtItsLine(_ old: String, _ new: String, _ message: String) throws {
        let (text, line) = try Self.edit(Self.testee, after: nil, old, new)
        do {
            _ = try SpecLoader.load(layoutYAML: Self.layout, messagesYAML: Self.messages, testeeYAML: text)
            Issue.record("a broken check loaded")
        } catch let error as SpecError {
            #expect(error.file == "spec/testee.yaml")
            #expect(error.line == line || error.line == line + 1, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
        let misplaced = Self.messages + "\nchecks:\n  - {id: CONTENT-X, level: MUST, text: x}\n"
        #expect(Self.loadError(messages: misplaced)?.message.contains("checks belong to the testee protocol") == true)
    }

    @Test func gapsNameTheLine() throws {
        let (moved, line) = try Self.edit(Self.layout, after: "- name: num_entries\n", "offset: 16", "offset: 24")
        let (text, _) = try Self.edit(moved, after: "- name: num_entries\n", "size: 48", "size: 40")
        let error = try #require(Self.loadError(layout: text))
        #expect(error.line == line - 1)
        #expect(error.message.contains("gap before field 'reserved': bytes 16..<24 of DictionaryHeader belong to no field"))
    }

    @Test func yamlSyntaxErrorsNameTheLine() throws {
        let (text, line) = try Self.edit(Self.layout, after: nil, "  doc: >\n    An observed", "  doc: [unclosed\n    An observed")
        let error = try #require(Self.loadError(layout: text))
        #expect(error.message.contains("not valid YAML"))
        #expect(error.line >= line)
    }
}
