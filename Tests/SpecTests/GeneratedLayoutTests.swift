import OTLPMmapLayout
import OTLPMmapSpec
import OTLPMmapWire
import Testing
import TestSupport

/// The generated layout must say what protocol.md's tables say. The expectations are copied from
/// those tables (offset, size, name, atomic), not derived from spec/, so a wrong spec fails here.
@Suite struct GeneratedLayoutTests {
    struct Row: Equatable, CustomStringConvertible {
        var offset: Int, size: Int, name: String, atomic: Bool
        var description: String { "\(offset)+\(size) \(name)\(atomic ? " atomic" : "")" }
    }

    func rows(_ fields: [LayoutFieldInfo]) -> [Row] {
        fields.map { Row(offset: $0.offset, size: $0.size, name: $0.name, atomic: $0.atomic) }
    }

    @Test func fileHeaderMatchesProtocolSection1() {
        #expect(FileHeaderView.size == 64)
        #expect(rows(FileHeaderView.fields) == [
            Row(offset: 0, size: 8, name: "version", atomic: false),
            Row(offset: 8, size: 8, name: "events", atomic: true),
            Row(offset: 16, size: 8, name: "spans", atomic: true),
            Row(offset: 24, size: 8, name: "measurements", atomic: true),
            Row(offset: 32, size: 8, name: "dictionary", atomic: true),
            Row(offset: 40, size: 8, name: "start_time_unix_nano", atomic: true),
            Row(offset: 48, size: 16, name: "reserved", atomic: false),
        ])
        #expect(FileHeaderView.fields.map(\.type) == ["int64", "int64", "int64", "int64", "int64", "uint64", "reserved"])
        #expect(FileLayout.version == 1)
    }

    @Test func ringHeaderMatchesProtocolSection2() {
        #expect(RingHeaderView.size == 32)
        #expect(rows(RingHeaderView.fields) == [
            Row(offset: 0, size: 8, name: "num_buffers", atomic: false),
            Row(offset: 8, size: 8, name: "buffer_size", atomic: false),
            Row(offset: 16, size: 8, name: "reader_index", atomic: true),
            Row(offset: 24, size: 8, name: "writer_index", atomic: true),
        ])
    }

    @Test func dictionaryHeaderMatchesProtocolSection3() {
        #expect(DictionaryHeaderView.size == 64)
        #expect(rows(DictionaryHeaderView.fields) == [
            Row(offset: 0, size: 8, name: "end", atomic: true),
            Row(offset: 8, size: 8, name: "num_entries", atomic: true),
            Row(offset: 16, size: 48, name: "reserved", atomic: false),
        ])
        #expect(DictionaryLayout.firstEntryOffset(dictionaryOffset: 1000) == 1064)
    }

    @Test(arguments: [(Int64(1), Int64(2)), (16, 256), (1024, 512), (4, 33)])
    func ringGeometryIsProtocolFormula(numBuffers: Int64, bufferSize: Int64) {
        // Ring byte size = 32 + 4·num_buffers + num_buffers·buffer_size.
        #expect(RingLayout.byteSize(numBuffers: numBuffers, bufferSize: bufferSize) == 32 + 4 * numBuffers + numBuffers * bufferSize)
        #expect(RingLayout.availabilityOffset(numBuffers: numBuffers, bufferSize: bufferSize) == 32)
        #expect(RingLayout.slotsOffset(numBuffers: numBuffers, bufferSize: bufferSize) == 32 + 4 * numBuffers)
        #expect(RingLayout.availabilityElementSize == 4)
        #expect(RingLayout.availabilityInitial == -1)
    }

    @Test func ringSizesOverflowToNilInsteadOfTrapping() {
        #expect(RingLayout.byteSize(numBuffers: 1 << 40, bufferSize: 1 << 40) == nil)
        #expect(RingLayout.byteSize(numBuffers: -4, bufferSize: 8) == nil)
    }

    @Test func flagFormulasAgreeBelow2To32AndDifferAbove() {
        for sequence: Int64 in [0, 1, 5, 1023, 1024, 4_294_967_295] {
            #expect(RingLayout.flag(sequence: sequence, log2NumBuffers: 10) == RingLayout.alternativeFlag(sequence: sequence, log2NumBuffers: 10))
        }
        let past: Int64 = 1 << 32 | 5
        #expect(RingLayout.flag(sequence: past, log2NumBuffers: 2) == Int32(truncatingIfNeeded: past >> 2))
        #expect(RingLayout.alternativeFlag(sequence: past, log2NumBuffers: 2) == 1)
        #expect(RingLayout.flag(sequence: past, log2NumBuffers: 2) != RingLayout.alternativeFlag(sequence: past, log2NumBuffers: 2))
        #expect(RingLayout.slotIndex(sequence: past, numBuffers: 4) == 1)
    }

    @Test func ringsHoldTheProtocolsRecordTypesInFileOrder() {
        #expect(RingKind.allCases.map(\.name) == ["events", "spans", "measurements"])
        #expect(RingKind.allCases.map(\.recordType) == ["Event", "SpanEvent", "Measurement"])
        #expect(RingKind.allCases.map(\.headerFieldOffset) == [8, 16, 24])
        #expect(FileLayout.defaultNumBuffers == 1024 && FileLayout.defaultBufferSize == 512 && FileLayout.defaultDictionaryBytes == 1024)
    }

    @Test func entryKindsMatchProtocolSection3() {
        #expect(DictionaryEntryKind.allCases.map(\.rawValue) == ["string", "Resource", "InstrumentationScope", "MetricRef", "AnyValue"])
    }

    @Test func ruleCatalogueIsTheSpecsRules() throws {
        let spec = try SpecLoader.load(directory: TestSupport.repositoryRoot.appendingPathComponent("spec"))
        #expect(RuleCatalogue.all.map(\.id.rawValue) == spec.layout.rules.map(\.id))
        #expect(RuleCatalogue.info(.ringPow2)?.level == .must)
        #expect(RuleCatalogue.info(.dictRefZero)?.level == .should)
        // The wire runtime raises a few rules by ID without generated help: they must exist.
        for rule in RuleID.raisedByRuntime {
            #expect(spec.layout.rule(rule.rawValue) != nil, "runtime rule \(rule) is not in spec/layout.yaml")
        }
    }
}
