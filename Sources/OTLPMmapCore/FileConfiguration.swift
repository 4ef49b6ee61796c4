import OTLPMmapLayout

/// The sizes a writer chooses when it creates a file. Readers never need this: they read the sizes
/// from the file.
package struct FileConfiguration: Sendable, Equatable {
    package typealias RingSize = OTLPMmapCore.RingSize

    package var events: RingSize
    package var spans: RingSize
    package var measurements: RingSize
    /// Initial size of the dictionary region, header included.
    package var dictionaryBytes: Int64
    /// Written into the header; a new value tells readers the file was re-initialised.
    package var startTimeUnixNano: UInt64

    package init(
        events: RingSize = .default, spans: RingSize = .default, measurements: RingSize = .default,
        dictionaryBytes: Int64 = FileLayout.defaultDictionaryBytes, startTimeUnixNano: UInt64
    ) {
        self.events = events
        self.spans = spans
        self.measurements = measurements
        self.dictionaryBytes = dictionaryBytes
        self.startTimeUnixNano = startTimeUnixNano
    }

    package func ringSize(_ kind: RingKind) -> RingSize {
        switch kind {
        case .events: events
        case .spans: spans
        case .measurements: measurements
        }
    }
}

/// A configuration our writer refuses, before touching any file.
package struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    package var rule: String
    package var message: String
    package var description: String { "invalid configuration (\(rule)): \(message)" }

    package init(rule: String, message: String) {
        self.rule = rule
        self.message = message
    }
}

/// One ring's size as a writer creates it: how many slots, and how many bytes each holds (record
/// and length prefix). Both must be powers of two; `FileConfiguration`'s checks say which rule a bad
/// value breaks.
public struct RingSize: Sendable, Equatable {
    public var numBuffers: Int64
    public var bufferSize: Int64

    public init(numBuffers: Int64, bufferSize: Int64) {
        self.numBuffers = numBuffers
        self.bufferSize = bufferSize
    }

    /// The format's default sizes.
    public static let `default` = RingSize(numBuffers: FileLayout.defaultNumBuffers, bufferSize: FileLayout.defaultBufferSize)
}
