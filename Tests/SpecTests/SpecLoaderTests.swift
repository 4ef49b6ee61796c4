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

    /// Replaces the one occurrence of `old` (after `anchor`, when given) and returns the new text and
    /// the 1-based line where the replacement starts plus `lineOffset`.
    func edit(_ text: String, after anchor: String? = nil, _ old: String, _ new: String, lineOffset: Int = 0) throws -> (String, Int) {
        var searchStart = text.startIndex
        if let anchor { searchStart = try #require(text.range(of: anchor)).upperBound }
        let range = try #require(text.range(of: old, range: searchStart..<text.endIndex))
        let line = text[..<range.lowerBound].filter { $0 == "\n" }.count + 1
        return (text.replacingCharacters(in: range, with: new), line + lineOffset)
    }

    func layoutError(_ yaml: String) -> SpecError? {
        do {
            _ = try SpecLoader.load(layoutYAML: yaml, messagesYAML: Self.messages)
            return nil
        } catch let error as SpecError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    func messagesError(_ yaml: String) -> SpecError? {
        do {
            _ = try SpecLoader.load(layoutYAML: Self.layout, messagesYAML: yaml)
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

    @Test func overlappingFieldsNameTheLine() throws {
        // The header's reserved bytes moved onto start_time_unix_nano.
        let (yaml, line) = try edit(Self.layout, after: "- name: start_time_unix_nano\n", "offset: 48", "offset: 44", lineOffset: -1)
        let error = try #require(layoutError(yaml))
        #expect(error.file == "spec/layout.yaml")
        #expect(error.line == line)
        #expect(error.message.contains("field 'reserved' at offset 44 overlaps the previous field, which ends at 48"))
    }

    @Test func gapsNameTheLine() throws {
        let (moved, line) = try edit(Self.layout, after: "- name: num_entries\n", "offset: 16", "offset: 24", lineOffset: -1)
        let (yaml, _) = try edit(moved, after: "- name: num_entries\n", "size: 48", "size: 40")
        let error = try #require(layoutError(yaml))
        #expect(error.line == line)
        #expect(error.message.contains("gap before field 'reserved': bytes 16..<24 of DictionaryHeader belong to no field"))
    }

    @Test func misalignedAtomicFieldsNameTheLine() throws {
        let (yaml, line) = try edit(Self.layout, after: "- name: spans\n", "offset: 16", "offset: 12")
        let error = try #require(layoutError(yaml))
        #expect(error.line == line)
        #expect(error.message.contains("atomic field 'spans' at offset 12 is not aligned"))
    }

    @Test func sizesThatDoNotMatchTheirTypeNameTheLine() throws {
        let (yaml, line) = try edit(Self.layout, after: "- name: num_buffers\n", "size: 8", "size: 4")
        let error = try #require(layoutError(yaml))
        #expect(error.line == line)
        #expect(error.message.contains("size 4 does not match type int64"))
    }

    @Test func unknownTypesNameTheLine() throws {
        let (yaml, line) = try edit(Self.layout, after: "- name: buffer_size\n", "type: int64", "type: int63")
        let error = try #require(layoutError(yaml))
        #expect(error.line == line)
        #expect(error.message.contains("unknown type 'int63'"))
    }

    @Test func duplicateRuleIDsNameTheLine() throws {
        let (yaml, line) = try edit(Self.layout, "  - id: HDR-RESERVED\n", "  - id: HDR-VERSION\n")
        let error = try #require(layoutError(yaml))
        #expect(error.line == line)
        #expect(error.message.contains("duplicate rule ID 'HDR-VERSION'"))
    }

    @Test func structureSizeMustEqualItsFields() throws {
        let (yaml, line) = try edit(Self.layout, after: "- name: DictionaryHeader\n", "size: 64", "size: 72")
        let error = try #require(layoutError(yaml))
        #expect(error.line == line)
        #expect(error.message.contains("fields end at 64"))
    }

    @Test func misspeltKeysAreErrorsNotIgnored() throws {
        let (yaml, line) = try edit(Self.layout, after: "- name: writer_index\n", "atomic: true", "atomik: true")
        let error = try #require(layoutError(yaml))
        #expect(error.line == line)
        #expect(error.message.contains("unknown key 'atomik'"))
    }

    @Test func citingAnUnknownRuleNamesTheLine() throws {
        let (yaml, line) = try edit(Self.layout, "rules: [RING-POW2]", "rules: [RING-POW3]")
        let error = try #require(layoutError(yaml))
        // The field's line: the `- name:` two lines above the rules line.
        #expect(error.line == line - 5)
        #expect(error.message.contains("unknown rule 'RING-POW3'"))
    }

    @Test func yamlSyntaxErrorsNameTheLine() throws {
        let (yaml, line) = try edit(Self.layout, "  doc: >\n    An observed", "  doc: [unclosed\n    An observed")
        let error = try #require(layoutError(yaml))
        #expect(error.message.contains("not valid YAML"))
        #expect(error.line >= line)
    }

    @Test func duplicateFieldNumbersInMessagesNameTheLine() throws {
        let (yaml, line) = try edit(Self.messages, "{name: span_id, number: 2, type: bytes, length: 8", "{name: span_id, number: 1, type: bytes, length: 8")
        let error = try #require(messagesError(yaml))
        #expect(error.file == "spec/messages.yaml")
        #expect(error.line == line)
        #expect(error.message.contains("clashes with field 'trace_id'"))
    }

    @Test func unknownMessageTypesNameTheLine() throws {
        let (yaml, line) = try edit(Self.messages, "type: EndSpan, oneof: event", "type: StopSpan, oneof: event")
        let error = try #require(messagesError(yaml))
        #expect(error.line == line)
        #expect(error.message.contains("unknown type 'StopSpan'"))
    }

    @Test func reservedNumbersCannotBeUsed() throws {
        let (yaml, line) = try edit(Self.messages, "{name: message, number: 2, type: string}", "{name: message, number: 1, type: string}")
        let error = try #require(messagesError(yaml))
        #expect(error.line == line)
        #expect(error.message.contains("reserved"))
    }

    @Test func singularMessageCyclesAreRejected() throws {
        let (yaml, line) = try edit(Self.messages, "{name: values, number: 1, type: AnyValue, repeated: true}", "{name: values, number: 1, type: AnyValue}")
        let error = try #require(messagesError(yaml))
        #expect(error.line == line || error.message.contains("cycle"))
        #expect(error.message.contains("cycle"))
    }

    @Test func ringsMustHoldKnownMessages() throws {
        let (yaml, line) = try edit(Self.layout, "record: SpanEvent", "record: SpanEvents", lineOffset: -1)
        let error = try #require(layoutError(yaml))
        #expect(error.line == line)
        #expect(error.message.contains("unknown message 'SpanEvents'"))
    }
}
