import OTLPMmapConformance
import OTLPMmapLayout
import OTLPMmapWire

/// The libFuzzer targets' bodies, for the repository's fuzz package (Fuzz/, built only by
/// tools/fuzz.sh with the fuzzer sanitizer): each takes arbitrary bytes and must neither crash nor
/// hang. Not part of the toolkit's API; the library product exists because `package` access does
/// not reach another package.
public enum FuzzTargets {
    /// Every record and entry decoder on arbitrary bytes (the first byte picks the decoder). What
    /// decodes must survive a round trip: decode → encode → decode gives the same value.
    public static func decoders(_ bytes: UnsafeRawBufferPointer) {
        guard let selector = bytes.first else { return }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[1...])
        switch selector % 8 {
        case 0: roundTrip(SpanEvent.self, payload)
        case 1: roundTrip(Event.self, payload)
        case 2: roundTrip(Measurement.self, payload)
        case 3: roundTrip(MetricRef.self, payload)
        case 4: roundTrip(InstrumentationScope.self, payload)
        case 5: roundTrip(Resource.self, payload)
        case 6: roundTrip(AnyValue.self, payload)
        default: _ = try? DictionaryEntryKind.string.decode(payload, baseOffset: 0)
        }
    }

    /// The whole-file checker on arbitrary bytes, whatever the offsets, sizes and indices say.
    public static func checker(_ bytes: UnsafeRawBufferPointer) {
        let report = FileChecker.check(bytes: Array(bytes), name: "fuzz")
        _ = report.passed
    }

    static func roundTrip<M: WireMessage & Equatable>(_ type: M.Type, _ payload: UnsafeRawBufferPointer) {
        var reader = ProtoReader(payload, baseOffset: 0)
        guard let value = try? M(from: &reader) else { return }
        var encoded = [UInt8](repeating: 0, count: value.encodedSize)
        encoded.withUnsafeMutableBytes { raw in
            var writer = ProtoWriter(raw)
            value.encode(to: &writer)
            precondition(writer.count == raw.count, "encodedSize disagrees with encode for \(M.self)")
        }
        let again = encoded.withUnsafeBytes { raw -> M? in
            var second = ProtoReader(raw, baseOffset: 0)
            return try? M(from: &second)
        }
        // Compared as record values, whose doubles compare bit for bit (a NaN equals itself).
        precondition(again?.recordValue == value.recordValue, "\(M.self) does not survive a round trip")
    }
}
