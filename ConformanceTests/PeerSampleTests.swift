import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import Testing
import TestSupport

/// Files written by the existing (upstream Rust) writer: `inspect` must show exactly the content the
/// fixtures' description gives (ConformanceTests/fixtures/README.md and the shared peer samples).
@Suite struct PeerSampleTests {
    func inspect(_ name: String) async throws -> JSON {
        let result = try await TestSupport.run(["inspect", "--json", TestSupport.fixture(name).path])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSON(parsing: result.stdout)
    }

    /// `key=value` pairs of a list of resolved KeyValueRefs, values rendered as text.
    func attributes(_ list: JSON) -> [String: String] {
        var result: [String: String] = [:]
        for item in list.array {
            let key = item["key_ref"].resolved.string ?? "?"
            result[key] = render(item["value"])
        }
        return result
    }

    func render(_ value: JSON) -> String {
        if let text = value["string_value"].string { return text }
        if let number = value["int_value"].int { return "\(number)" }
        if let number = value["double_value"].double { return "\(number)" }
        if let flag = value["bool_value"].bool { return "\(flag)" }
        if !value["value_ref"].isNull { return "→" + render(value["value_ref"].resolved) }
        if !value["array_value"].isNull { return "[" + value["array_value"]["values"].array.map(render).joined(separator: ",") + "]" }
        if !value["kvlist_value"].isNull {
            return "{" + attributes(value["kvlist_value"]["values"]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
        }
        return "?"
    }

    @Test func basicHeaderRingsAndDictionary() async throws {
        let json = try await inspect("upstream-basic.otlpmmap")
        #expect(json["size"].int == 11_680)
        let header = json["header"]
        #expect([header["version"].int, header["events"].int, header["spans"].int, header["measurements"].int, header["dictionary"].int]
                == [1, 64, 4256, 8448, 10592])
        let rings = json["rings"].array
        #expect(rings.map { $0["name"].string } == ["events", "spans", "measurements"])
        #expect(rings.map { $0["num_buffers"].int } == [16, 16, 16])
        #expect(rings.map { $0["buffer_size"].int } == [256, 256, 128])
        #expect(rings.map { $0["reader_index"].int } == [-1, -1, -1])
        #expect(rings.map { $0["writer_index"].int } == [3, 6, 4])
        #expect(rings.map { $0["records"].count } == [4, 7, 5])
        #expect(rings.allSatisfy { ring in ring["records"].array.allSatisfy { $0["state"].string == "readable" && $0["error"].isNull } })
        let dictionary = json["dictionary"]
        #expect(dictionary["end"].int == 11_124 && dictionary["num_entries"].int == 21 && dictionary["entries_found"].int == 21)
    }

    @Test func basicEvents() async throws {
        let events = try await inspect("upstream-basic.otlpmmap")["rings"][0]["records"].array.map { $0["Event"] }
        #expect(events.map { $0["severity_number"].string } == ["SEVERITY_NUMBER_INFO", "SEVERITY_NUMBER_WARN", "SEVERITY_NUMBER_ERROR", "SEVERITY_NUMBER_DEBUG"])
        #expect(events.map { $0["time_unix_nano"].uint } == [1_700_000_000_000_000_100, 1_700_000_000_000_000_200, 1_700_000_000_000_000_300, 1_700_000_000_000_000_400])
        #expect(render(events[0]["body"]) == "user logged in")
        #expect(events[0]["event_name_ref"].resolved.string == "app.login")
        #expect(events[0]["span_context"]["trace_id"].string == "0102030405060708090a0b0c0d0e0f10")
        #expect(events[0]["span_context"]["span_id"].string == "a1a2a3a4a5a6a7a8")
        #expect(attributes(events[0]["attributes"]) == ["user.id": "7", "http.route": "→shared-route-/login"])
        #expect(render(events[1]["body"]) == "42")
        #expect(render(events[2]["body"]) == "{nested=true}")
        #expect(events[2]["event_name_ref"].resolved.string == "app.logout")
        #expect(render(events[3]["body"]) == "3.25")

        let scope = events[0]["scope_ref"]
        #expect(scope["ref"].int == 10_882)
        #expect(scope.resolved["name_ref"].resolved.string == "peer-write.scope")
        #expect(scope.resolved["version_ref"].resolved.string == "1.2.3")
        #expect(attributes(scope.resolved["attributes"]) == ["scope.attr": "scope-value"])
        let resource = scope.resolved["resource_ref"]
        #expect(resource["ref"].int == 10_829)
        #expect(attributes(resource.resolved["attributes"]) == ["service.name": "peer-write-service", "host.name": "host-a", "process.pid": "4242"])
    }

    @Test func basicSpanEvents() async throws {
        let spans = try await inspect("upstream-basic.otlpmmap")["rings"][1]["records"].array.map { $0["SpanEvent"] }
        #expect(spans.allSatisfy { $0["trace_id"].string == "0102030405060708090a0b0c0d0e0f10" })
        #expect(spans.map { $0["span_id"].string } == ["a1a2a3a4a5a6a7a8", "b1b2b3b4b5b6b7b8", "b1b2b3b4b5b6b7b8", "b1b2b3b4b5b6b7b8",
                                                       "b1b2b3b4b5b6b7b8", "a1a2a3a4a5a6a7a8", "a1a2a3a4a5a6a7a8"])
        let first = spans[0]["start"]
        #expect(first["name"].string == "GET /login" && first["kind"].string == "SPAN_KIND_SERVER" && first["flags"].int == 257)
        let second = spans[1]["start"]
        #expect(second["name"].string == "db.query" && second["kind"].string == "SPAN_KIND_CLIENT")
        #expect(second["parent_span_id"].string == "a1a2a3a4a5a6a7a8")
        #expect(spans[2]["name"]["name"].string == "SELECT users")
        #expect(attributes(spans[3]["attributes"]["attributes"]) == ["user.id": "7", "tags": "[a,2]"])
        #expect(spans[4]["end"]["status"]["code"].string == "STATUS_CODE_OK")
        #expect(spans[4]["end"]["end_time_unix_nano"].uint == 1_700_000_000_000_005_000)
        let link = spans[5]["link"]["links"][0]
        #expect(link["trace_id"].string == String(repeating: "ee", count: 16) && link["span_id"].string == String(repeating: "dd", count: 8))
        #expect(link["trace_state"].string == "k=v")
        #expect(spans[6]["end"]["status"]["code"].string == "STATUS_CODE_ERROR" && spans[6]["end"]["status"]["message"].string == "boom")
    }

    @Test func basicMeasurementsAndMetricDefinitions() async throws {
        let measurements = try await inspect("upstream-basic.otlpmmap")["rings"][2]["records"].array.map { $0["Measurement"] }
        let metrics = measurements.map { $0["metric_ref"].resolved }
        #expect(metrics.map { $0["name"].string } == ["http.server.requests", "http.server.requests", "process.memory.usage", "http.server.duration", "http.server.duration"])
        #expect(measurements[0]["as_long"].int == 1 && attributes(measurements[0]["attributes"]) == ["http.method": "GET"])
        #expect(measurements[1]["as_long"].int == 2 && attributes(measurements[1]["attributes"]) == ["http.method": "POST"])
        #expect(measurements[2]["as_long"].int == 123_456_789)
        #expect(measurements[3]["as_double"].double == 12.5 && attributes(measurements[3]["attributes"]) == ["http.status_code": "200"])
        let negativeZero = try #require(measurements[4]["as_double"].double)
        #expect(negativeZero == 0 && negativeZero.sign == .minus)

        let requests = metrics[0]
        #expect(requests["unit"].string == "{request}")
        #expect(requests["sum"]["aggregation_temporality"].string == "AGGREGATION_TEMPORALITY_CUMULATIVE" && requests["sum"]["is_monotonic"].bool == true)
        #expect(metrics[2]["unit"].string == "By" && !metrics[2]["gauge"].isNull)
        let duration = metrics[3]
        #expect(duration["unit"].string == "ms")
        #expect(duration["histogram"]["aggregation_temporality"].string == "AGGREGATION_TEMPORALITY_DELTA")
        #expect(duration["histogram"]["bucket_boundaries"].array.map { $0.double } == [0, 5, 10, 25, 50, 100])
    }

    @Test func wrappedEventsRing() async throws {
        let json = try await inspect("upstream-wrap.otlpmmap")
        let events = json["rings"][0]
        #expect(events["num_buffers"].int == 4 && events["buffer_size"].int == 256)
        #expect(events["reader_index"].int == 6 && events["writer_index"].int == 9)
        #expect(events["records"].array.map { $0["sequence"].int } == [7, 8, 9])
        #expect(events["records"].array.map { $0["slot"].int } == [3, 0, 1])
        #expect(events["records"].array.allSatisfy { $0["state"].string == "readable" && !$0["Event"].isNull })
        // The other rings are as in the basic file.
        #expect(json["rings"].array.dropFirst().map { $0["writer_index"].int } == [6, 4])

        let file = try MmapFile.open(path: TestSupport.fixture("upstream-wrap.otlpmmap").path)
        let ring = file.ring(.events)
        #expect((0..<4).map { ring.availability[$0] } == [2, 2, 1, 1])
    }
}
