import OTLPMmapWire

/// Decodes a whole payload as `M`, errors carrying file offsets from `baseOffset` on.
package func decodeMessage<M: WireMessage>(_ type: M.Type, _ bytes: [UInt8], baseOffset: Int = 0) throws -> M {
    try bytes.withDecodableBytes { raw throws(FormatError) in
        var reader = ProtoReader(raw, baseOffset: baseOffset)
        return try M(from: &reader)
    }
}

/// Encodes `message` with its generated encoder.
package func encodeMessage<M: WireMessage>(_ message: M) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: message.encodedSize)
    bytes.withUnsafeMutableBytes { raw in
        var writer = ProtoWriter(raw)
        message.encode(to: &writer)
        precondition(writer.count == raw.count, "encodedSize disagrees with encode")
    }
    return bytes
}
