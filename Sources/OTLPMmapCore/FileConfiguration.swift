import OTLPMmapLayout

/// The sizes a writer chooses when it creates a file. Readers never need this: they read the sizes
/// from the file.
public struct FileConfiguration: Sendable, Equatable {
    public struct RingSize: Sendable, Equatable {
        public var numBuffers: Int64
        public var bufferSize: Int64

        public init(numBuffers: Int64, bufferSize: Int64) {
            self.numBuffers = numBuffers
            self.bufferSize = bufferSize
        }

        public static let `default` = RingSize(numBuffers: FileLayout.defaultNumBuffers, bufferSize: FileLayout.defaultBufferSize)
    }

    public var events: RingSize
    public var spans: RingSize
    public var measurements: RingSize
    /// Initial size of the dictionary region, header included.
    public var dictionaryBytes: Int64
    /// Written into the header; a new value tells readers the file was re-initialised.
    public var startTimeUnixNano: UInt64

    public init(
        events: RingSize = .default, spans: RingSize = .default, measurements: RingSize = .default,
        dictionaryBytes: Int64 = FileLayout.defaultDictionaryBytes, startTimeUnixNano: UInt64
    ) {
        self.events = events
        self.spans = spans
        self.measurements = measurements
        self.dictionaryBytes = dictionaryBytes
        self.startTimeUnixNano = startTimeUnixNano
    }

    public func ringSize(_ kind: RingKind) -> RingSize {
        switch kind {
        case .events: events
        case .spans: spans
        case .measurements: measurements
        }
    }
}

/// A configuration our writer refuses, before touching any file.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public var rule: String
    public var message: String
    public var description: String { "invalid configuration (\(rule)): \(message)" }

    public init(rule: String, message: String) {
        self.rule = rule
        self.message = message
    }
}
