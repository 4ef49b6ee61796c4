import Foundation
import OTLPMmapConformance
import OTLPMmapLayout
import OTLPMmapWire
import Testing
import TestSupport

/// Every field of every fixed structure, set to an invalid value in a valid golden file, is caught:
/// the checker reports one of the rules the spec attaches to that field.
@Suite struct FieldMutationTests {
    struct Mutation: Sendable, CustomTestStringConvertible {
        var structure: String
        var base: Int
        var field: LayoutFieldInfo
        var testDescription: String { "\(structure).\(field.name) at \(base + field.offset)" }
    }

    static let file = TestSupport.repositoryRoot.appendingPathComponent("golden/valid/every-ring.otlpmmap")

    /// The mutations come from a file read at run time: none must fail, not pass with zero cases.
    @Test func theMutationsAreFound() {
        #expect(Self.mutations.count >= 20, "\(Self.mutations.count)")
    }

    static let mutations: [Mutation] = {
        guard let bytes = FileManager.default.contents(atPath: file.path).map([UInt8].init), bytes.count >= 64 else { return [] }
        func int64(_ offset: Int) -> Int { Int(bytes[offset..<(offset + 8)].reversed().reduce(0) { $0 << 8 | Int64($1) }) }
        var result = FileHeaderView.fields.map { Mutation(structure: "FileHeader", base: 0, field: $0) }
        for (index, name) in ["events", "spans", "measurements"].enumerated() {
            result += RingHeaderView.fields.map { Mutation(structure: "RingHeader(\(name))", base: int64(8 + 8 * index), field: $0) }
        }
        result += DictionaryHeaderView.fields.map { Mutation(structure: "DictionaryHeader", base: int64(32), field: $0) }
        return result
    }()

    /// An invalid value for the field's type: negative for the signed offsets, sizes and indices,
    /// zero for the start time, non-zero for reserved bytes.
    static func invalidValue(_ field: LayoutFieldInfo) -> [UInt8] {
        switch field.type {
        case "int64": withUnsafeBytes(of: Int64(-12_345).littleEndian, Array.init)
        case "uint64": [UInt8](repeating: 0, count: 8)
        case "int32": withUnsafeBytes(of: Int32(-12_345).littleEndian, Array.init)
        default: [UInt8](repeating: 0xFF, count: field.size)
        }
    }

    @Test(arguments: mutations)
    func aMutatedFieldIsCaughtByOneOfItsRules(_ mutation: Mutation) throws {
        var bytes = [UInt8](try Data(contentsOf: Self.file))
        let offset = mutation.base + mutation.field.offset
        bytes.replaceSubrange(offset..<(offset + mutation.field.size), with: Self.invalidValue(mutation.field))
        let report = FileChecker.check(bytes: bytes, name: mutation.testDescription)
        #expect(!mutation.field.rules.isEmpty, "the spec should attach a rule to \(mutation.testDescription)")
        #expect(report.findings.contains { mutation.field.rules.contains($0.rule) }, "\(report.findings)")
    }

    @Test func everyFieldIsWalked() {
        #expect(Self.mutations.count == FileHeaderView.fields.count + 3 * RingHeaderView.fields.count + DictionaryHeaderView.fields.count)
    }
}
