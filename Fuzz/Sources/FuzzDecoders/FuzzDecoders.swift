import FuzzSupport
import OTLPMmapLayout
import OTLPMmapWire

/// Every record and entry decoder on arbitrary bytes: none may crash or hang, and whatever decodes
/// must survive a round trip (decode → encode → decode gives the same value).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let selector = bytes.first else { return 0 }
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
    return 0
}

func roundTrip<M: WireMessage & Equatable>(_ type: M.Type, _ payload: UnsafeRawBufferPointer) {
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

@_cdecl("FuzzDecoders_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, { data, size in fuzzDecoders(data, size) })
}
