import Foundation
import OTLPMmapConformance
import OTLPMmapTestee
import Testing
import TestSupport

/// The writer scenarios' loader: typed YAML nodes with file and line, every key checked.
@Suite struct ScenarioLoaderTests {
    @Test func theBuiltInScenariosAreTheFilesInScenariosWriters() throws {
        let folder = TestSupport.repositoryRoot.appendingPathComponent("scenarios/writers").path
        let fromFiles = try ScenarioLoader.loadAll(folder: folder)
        #expect(fromFiles.count >= 8, "\(fromFiles.map(\.name))")
        #expect(try ScenarioLoader.builtIn() == fromFiles)
    }

    /// A scenario author's mistake is an error naming the file, the line and what is wrong.
    @Test(arguments: [
        ("name: x\ncommands:\n  - start_span: {span: A, knd: SPAN_KIND_SERVER}\n", "x.yaml:3:", "unknown key 'knd'"),
        ("name: x\ncommands:\n  - start_span: {span: A}\n  - end_span: {span: B}\n", "x.yaml:4:", "span B was not started"),
        ("name: x\ncommands:\n  - define_instrument: {instrument: c, kind: counter}\n  - record: {instrument: c, value: many}\n", "x.yaml:4:", "record takes a number as value"),
        ("name: x\ncommands:\n  - emit: {span: A}\n", "x.yaml:3:", "unknown command 'emit'"),
        ("name: x\ncommands:\n  - start_span: {span: A, kind: SPAN_KIND_SIDEWAYS}\n", "x.yaml:3:", "unknown span kind 'SPAN_KIND_SIDEWAYS'"),
        ("name: x\ncommands:\n  - define_instrument: {instrument: c, kind: counter, temporality: sometimes}\n", "x.yaml:3:", "temporality is delta or cumulative"),
        ("name: x\ntimeout: 3\ncommands: []\n", "x.yaml:2:", "unknown key 'timeout'"),
        ("commands: []\n", "x.yaml:1:", "missing key 'name'"),
        ("name: x\ncommands: [\n", "x.yaml:", "not valid YAML"),
    ])
    func aBrokenScenarioIsAnErrorWithFileAndLine(_ yaml: String, _ place: String, _ expected: String) {
        do {
            let script = try ScenarioLoader.load(yaml: yaml, source: "x.yaml")
            Issue.record("loaded \(script)")
        } catch {
            #expect("\(error)".hasPrefix(place), "\(error)")
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    /// Values keep YAML's own types: a bool, an int, a double, text, bytes, a list, a mapping.
    @Test func attributeValuesAreTypedAsYAMLTypesThem() throws {
        let script = try ScenarioLoader.load(yaml: """
            name: typed
            commands:
              - log: {body: "3", attributes: {b: true, i: 3, d: 2.5, s: "x", bin: !!binary AAH/, list: [1, two], map: {k: false}}}
            """, source: "typed.yaml")
        guard case .log(let log)? = script.commands.first?.command else {
            Issue.record("not a log command: \(script.commands)")
            return
        }
        #expect(log.body == Value(value: .stringValue("3")))
        let values = Dictionary(uniqueKeysWithValues: log.attributes.map { ($0.key, $0.value) })
        #expect(values["b"] == Value(value: .boolValue(true)))
        #expect(values["i"] == Value(value: .intValue(3)))
        #expect(values["d"] == Value(value: .doubleValue(2.5)))
        #expect(values["s"] == Value(value: .stringValue("x")))
        #expect(values["bin"] == Value(value: .bytesValue([0, 1, 255])))
        #expect(values["list"] == Value(value: .arrayValue(ValueArray(values: [Value(value: .intValue(1)), Value(value: .stringValue("two"))]))))
        #expect(values["map"] == Value(value: .kvlistValue(ValueMap(values: [KeyValue(key: "k", value: Value(value: .boolValue(false)))]))))
        #expect(log.attributes.map(\.key) == log.attributes.map(\.key).sorted())
    }
}
