import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapSDK
import Testing
import TestSupport

/// Templates are a faster way to write the same records: for the same inputs (same id seed, same
/// clock) a file written from templates must equal, byte for byte, one written the general way.
@Suite struct TemplateTests {
    /// A writer whose ids and times repeat from run to run.
    func reproducibleWriter(_ name: String) throws -> TelemetryWriter {
        let path = try TestSupport.temporaryDirectory("templates-\(name)").appendingPathComponent("t.otlpmmap").path
        var configuration = WriterConfiguration(path: path, resource: [Attribute("service.name", "templates")])
        configuration.idSeed = 42
        let ticks = Ticks()
        configuration.clock = { ticks.next() }
        return try TelemetryWriter(configuration: configuration)
    }

    /// Every variation the per-call part of a template covers.
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var kind: SpanKind
        var attributeCount: Int
        var customScope: Bool
        var withParent: Bool
        var flags: UInt32
        var startTime: UInt64?
        var description: String { "\(name.isEmpty ? "<empty>" : name) kind \(kind.rawValue) attrs \(attributeCount) scope \(customScope) parent \(withParent) flags \(flags) time \(startTime.map(String.init) ?? "clock")" }
    }

    static let spanCases: [Case] = [
        Case(name: "GET /orders/{id}", kind: .server, attributeCount: 3, customScope: false, withParent: false, flags: 1, startTime: nil),
        Case(name: "", kind: .internal, attributeCount: 0, customScope: false, withParent: false, flags: 1, startTime: nil),
        Case(name: "child", kind: .unspecified, attributeCount: 1, customScope: true, withParent: true, flags: 1, startTime: 1_700_000_000_000_000_000),
        Case(name: String(repeating: "long name ", count: 20), kind: .client, attributeCount: 2, customScope: false, withParent: false, flags: 0, startTime: 0),
    ]

    @Test(arguments: spanCases)
    func aSpanStartedFromATemplateIsTheSameRecord(_ testCase: Case) throws {
        let general = try reproducibleWriter("general")
        let templated = try reproducibleWriter("templated")
        func record(into writer: TelemetryWriter, useTemplate: Bool) throws {
            let attributes = try writer.attributes((0..<testCase.attributeCount).map { Attribute("key.\($0)", .int(Int64($0))) })
            let scope = testCase.customScope ? try writer.scope("custom.scope", version: "1.0") : nil
            let parent = testCase.withParent ? writer.startSpan("parent").context : nil
            let template = writer.spanTemplate(testCase.name, kind: testCase.kind, attributes: attributes, scope: scope)
            for _ in 0..<3 {
                let span = useTemplate
                    ? writer.startSpan(template, parent: parent, startTime: testCase.startTime, flags: testCase.flags)
                    : writer.startSpan(testCase.name, kind: testCase.kind, parent: parent, attributes: attributes, scope: scope,
                                       startTime: testCase.startTime, flags: testCase.flags)
                span.end()
            }
        }
        try record(into: general, useTemplate: false)
        try record(into: templated, useTemplate: true)
        try expectSameRecords(general, templated, .spans)
    }

    @Test func aLogRecordFromATemplateIsTheSameRecord() throws {
        let general = try reproducibleWriter("general-log")
        let templated = try reproducibleWriter("templated-log")
        func record(into writer: TelemetryWriter, useTemplate: Bool) throws {
            let attributes = try writer.attributes(["http.route": "/orders/{id}", "retry": 2, "ok": true])
            let eventName = try writer.eventName("order.loaded")
            let prepared = try writer.value(.array([.string("a"), .double(1.5)]))
            let scope = try writer.scope("log.scope")
            let context = writer.startSpan("around").context
            let variants: [(SeverityNumber, LogBody, String, EventName?, Attributes, Scope?, SpanContext?, UInt64?)] = [
                (.info, .text("order loaded"), "", nil, attributes, nil, nil, nil),
                (.error, .prepared(prepared), "ERROR", eventName, .none, scope, context, 1_700_000_000_000_000_000),
                (.unspecified, .none, "", nil, .none, nil, nil, 0),
                (.warn, .text(""), "W", eventName, attributes, nil, context, nil),
            ]
            for (severity, body, text, name, attributes, scope, spanContext, time) in variants {
                let template = writer.logTemplate(severity, body, severityText: text, eventName: name, attributes: attributes, scope: scope)
                for _ in 0..<2 {
                    if useTemplate {
                        writer.log(template, spanContext: spanContext, time: time)
                    } else {
                        writer.log(severity, body, severityText: text, eventName: name, attributes: attributes,
                                   spanContext: spanContext, scope: scope, time: time)
                    }
                }
            }
        }
        try record(into: general, useTemplate: false)
        try record(into: templated, useTemplate: true)
        try expectSameRecords(general, templated, .events)
    }

    func expectSameRecords(_ a: TelemetryWriter, _ b: TelemetryWriter, _ kind: RingKind) throws {
        let ringA = a.file.ring(kind), ringB = b.file.ring(kind)
        #expect(ringA.header.writerIndex == ringB.header.writerIndex)
        #expect(ringA.header.writerIndex >= 2, "the test wrote nothing")
        for sequence in 0...max(0, ringA.header.writerIndex) {
            let recordA = try ringA.copyRecord(sequence).payload
            let recordB = try ringB.copyRecord(sequence).payload
            #expect(recordA == recordB, "record \(sequence) differs: \(recordA) vs \(recordB)")
        }
        #expect(a.file.dictionary.header.end == b.file.dictionary.header.end, "the dictionaries differ")
    }
}

/// A clock that advances one microsecond per reading.
final class Ticks: @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64 = 1_700_000_000_000_000_000
    func next() -> UInt64 { lock.withLock { now += 1_000; return now } }
}
