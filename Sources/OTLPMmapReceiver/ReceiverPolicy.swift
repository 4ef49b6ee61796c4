/// How the embedded receiver answers exports of one signal: what a collector under test meets in
/// the field — a backend that refuses for a while (with or without saying when to come back), one
/// that accepts only part of what it is sent, one that is slow.
package struct ReceiverPolicy: Sendable, Equatable {
    /// The next this many requests are refused: gRPC UNAVAILABLE, HTTP 503 (both retryable in OTLP).
    package var refuseNext = 0
    /// Every request is refused until this instant (then `refuseNext` applies): an outage.
    package var refuseUntil: ContinuousClock.Instant?
    /// Refusals say when to come back: gRPC `RetryInfo` in the status details, HTTP `Retry-After`
    /// (whole seconds, rounded up).
    package var retryAfter: Duration?
    /// Accepted requests answer `partial_success`, rejecting this many items (at most the request's).
    package var rejectItems: Int64 = 0
    /// Every request is answered this much later.
    package var delay: Duration = .zero

    package init(refuseNext: Int = 0, refuseUntil: ContinuousClock.Instant? = nil, retryAfter: Duration? = nil, rejectItems: Int64 = 0, delay: Duration = .zero) {
        self.refuseNext = refuseNext
        self.refuseUntil = refuseUntil
        self.retryAfter = retryAfter
        self.rejectItems = rejectItems
        self.delay = delay
    }

    /// Accepts everything at once.
    package static let accept = ReceiverPolicy()
}

/// The answer the policy gives one request.
package enum ReceiverAnswer: Sendable, Equatable {
    case accepted(rejected: Int64)
    case refused(retryAfter: Duration?)
}
