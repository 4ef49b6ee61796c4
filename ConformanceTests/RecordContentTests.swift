import OTLPMmapCore
@testable import OTLPMmapConformance
import Testing

/// The content the runner compares is the bytes a writer wrote: text that Unicode calls equivalent
/// but that is spelled with other code points is an altered record.
@Suite struct RecordContentTests {
    @Test func canonicallyEquivalentTextIsDifferentContent() {
        let composed = JSONValue.object([("body", .object([("string_value", .string("caf\u{E9}"))]))])
        let decomposed = JSONValue.object([("body", .object([("string_value", .string("cafe\u{301}"))]))])
        // Swift's String calls these equal; a writer that normalised the text still changed its bytes.
        #expect("caf\u{E9}" == "cafe\u{301}")
        let a = RecordContent.canonical(composed), b = RecordContent.canonical(decomposed)
        #expect(a != b)
        #expect(Set([a, b]).count == 2)
        #expect(a == RecordContent.canonical(composed))
    }

    /// Attribute lists are maps: their order does not matter, by bytes too.
    @Test func attributeOrderDoesNotMatter() {
        func record(_ keys: [String]) -> JSONValue {
            .object([("attributes", .array(keys.map { .object([("key", .string($0)), ("value", .object([("int_value", .int(1))]))]) }))])
        }
        let keys = ["\u{E9}", "e\u{301}", "z", "a", "ключ", "🚀"]
        #expect(RecordContent.canonical(record(keys)) == RecordContent.canonical(record(keys.reversed())))
        #expect(RecordContent.canonical(record(keys)) != RecordContent.canonical(record(Array(keys.dropFirst()) + ["e\u{301}"])))
    }
}
