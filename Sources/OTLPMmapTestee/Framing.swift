import OTLPMmapWire

/// The testee protocol's framing: a 4-byte little-endian length, then that many bytes of protobuf.
/// A fixed-size prefix (not a varint) so that a testee in any language reads a frame with two plain
/// reads; the same framing both ways.
package enum Frame {
    /// Frames larger than this are not frames: a peer that announces more is writing garbage.
    package static let maxPayload = 16 << 20
    package static let prefixSize = 4

    /// `message` as one frame.
    package static func encode<Message: WireMessage>(_ message: Message) -> [UInt8] {
        let size = message.encodedSize
        var bytes = [UInt8](repeating: 0, count: prefixSize + size)
        withUnsafeBytes(of: UInt32(size).littleEndian) { prefix in
            for index in 0..<prefixSize { bytes[index] = prefix[index] }
        }
        bytes.withUnsafeMutableBytes { raw in
            var writer = ProtoWriter(UnsafeMutableRawBufferPointer(rebasing: raw[prefixSize...]))
            message.encode(to: &writer)
        }
        return bytes
    }

    /// Decodes a frame's payload; the error's offset is the payload's position in the byte stream.
    package static func decode<Message: WireMessage>(_ type: Message.Type, _ payload: [UInt8], streamOffset: Int) throws(FrameError) -> Message {
        let result: Result<Message, FormatError> = payload.withUnsafeBytes { raw in
            var reader = ProtoReader(raw, baseOffset: streamOffset)
            do throws(FormatError) {
                return .success(try Message(from: &reader))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let message): return message
        case .failure(let error):
            // A protocol error, not a file's: no rule ID of the format (SLOT-DECODE, WIRE-FORMAT) is named.
            let text = printable(payload).map { "; the frame holds the text \($0)" } ?? ""
            throw FrameError(offset: error.offset, "a \(Message.self) that does not decode: \(error.message)\(text)")
        }
    }
}

extension Frame {
    /// `bytes` quoted as text when they are printable UTF-8 (line breaks and tabs allowed, a
    /// character cut at the end forgiven), nil otherwise: a peer writing log lines where frames go.
    static func printable(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 4 else { return nil }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.last == "\u{FFFD}" { text.removeLast() }
        guard !text.unicodeScalars.contains(where: { $0 == "\u{FFFD}" || ($0.value < 0x20 && !["\n", "\r", "\t"].contains($0)) || $0.value == 0x7F }) else {
            return nil
        }
        var quoted = "\""
        for character in text {
            switch character {
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            default: quoted.append(character)
            }
        }
        return quoted + "\""
    }
}

/// A byte stream that does not hold well-formed frames.
package struct FrameError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Position in the stream (bytes since the stream began) where the problem is.
    package var offset: Int
    package var message: String

    package init(offset: Int, _ message: String) {
        self.offset = offset
        self.message = message
    }

    package var description: String { "at byte \(offset) of the stream: \(message)" }
}

/// Cuts a byte stream that arrives in pieces into frames. Work per byte is constant: frames are
/// read from a moving start, and the consumed bytes are dropped only once they are half the buffer
/// (a stream of many tiny frames must not cost a copy of the whole buffer per frame).
package struct FrameSplitter: Sendable {
    private var buffer: [UInt8] = []
    /// Index in `buffer` of the first byte not yet consumed.
    private var head = 0
    /// Stream position of `buffer[head]`.
    private var streamPosition = 0

    package init() {}

    /// Bytes received but not yet part of a whole frame.
    package var pendingBytes: Int { buffer.count - head }
    /// Bytes of the stream consumed into frames so far.
    package var consumed: Int { streamPosition }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer.append(contentsOf: bytes) }
    package mutating func append(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

    /// The next whole frame's payload and its stream offset, or nil until more bytes arrive.
    package mutating func next() throws(FrameError) -> (payload: [UInt8], offset: Int)? {
        guard pendingBytes >= Frame.prefixSize else { return nil }
        let length = Int(buffer[head]) | Int(buffer[head + 1]) << 8 | Int(buffer[head + 2]) << 16 | Int(buffer[head + 3]) << 24
        guard length <= Frame.maxPayload else {
            let start = Array(buffer[head..<min(buffer.count, head + 60)])
            let shown = Frame.printable(start)
                .map { "the bytes are text, \($0): something printed to the protocol's output (the runner's --channel fds keeps standard output off it)" }
                ?? "the bytes begin \(hexString(Array(start.prefix(8))))"
            throw FrameError(offset: streamPosition, "a frame announces \(length) bytes, more than the \(Frame.maxPayload) a frame may have (\(shown))")
        }
        guard pendingBytes >= Frame.prefixSize + length else { return nil }
        let payloadStart = head + Frame.prefixSize
        let payload = Array(buffer[payloadStart..<(payloadStart + length)])
        let offset = streamPosition + Frame.prefixSize
        head += Frame.prefixSize + length
        streamPosition += Frame.prefixSize + length
        if head * 2 >= buffer.count {
            buffer.removeFirst(head)
            head = 0
        }
        return (payload, offset)
    }
}
