import OTLPMmapConformance
import OTLPMmapSpec
import OTLPMmapTestee
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

    /// The dictionary walk and `DictionaryResolver` on arbitrary entries (`FileChecker.checkEntries`):
    /// every entry resolved as every kind, references followed, cycles and depth bounded. Small
    /// inputs, no file around them: fast enough to reach deep entries.
    public static func dictionary(_ bytes: UnsafeRawBufferPointer) {
        _ = FileChecker.checkEntries(bytes)
    }

    /// The runner's side of the testee protocol: a byte stream, in two pieces cut where the first
    /// byte says, split into frames and each decoded as a Reply. Every byte is accounted for
    /// (consumed into frames, or pending), and a bad stream is a `FrameError`, never a crash.
    public static func testeeFrames(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        let stream = UnsafeRawBufferPointer(rebasing: bytes[1...])
        let cut = stream.isEmpty ? 0 : Int(first) % (stream.count + 1)
        var splitter = FrameSplitter()
        var fed = 0
        for piece in [UnsafeRawBufferPointer(rebasing: stream[..<cut]), UnsafeRawBufferPointer(rebasing: stream[cut...])] {
            splitter.append(piece)
            fed += piece.count
            do throws(FrameError) {
                while let frame = try splitter.next() {
                    precondition(frame.offset >= Frame.prefixSize && frame.offset + frame.payload.count <= fed, "a frame outside the stream")
                    _ = try? Frame.decode(Reply.self, frame.payload, streamOffset: frame.offset)
                }
            } catch {
                return
            }
            precondition(splitter.consumed + splitter.pendingBytes == fed, "the splitter lost or invented bytes")
        }
    }

    /// The spec loader on arbitrary text: the bytes, cut at their first NUL, are the layout and the
    /// messages schema (a spec author's typo must be an error with file and line, never a crash).
    public static func specLoader(_ bytes: UnsafeRawBufferPointer) {
        let cut = bytes.firstIndex(of: 0) ?? bytes.count
        let layout = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<cut]), as: UTF8.self)
        let messages = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[min(cut + 1, bytes.count)...]), as: UTF8.self)
        do {
            _ = try SpecLoader.load(layoutYAML: layout, messagesYAML: messages)
        } catch is SpecError {
        } catch {
            preconditionFailure("the spec loader threw something other than a SpecError: \(error)")
        }
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
