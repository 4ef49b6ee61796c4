import Foundation
import OTLPMmapLayout
import Yams

/// One scenario of the live runner (ConformanceTests/scenarios/*.yaml): what the writer under test
/// must write, ring by ring and in order.
public struct Scenario: Sendable {
    public var name: String
    public var description: String
    public var timeoutSeconds: Double
    /// How many times the expectation lists are written in a row (labels are fresh each time).
    public var repeatCount: Int
    /// Expected records per ring; each is a map of field to expected text.
    public var expectations: [RingKind: [[String: ExpectedValue]]]
    public var path: String

    public enum ExpectedValue: Sendable, Equatable {
        case text(String)
        case map([String: String])
    }

    /// All expected records of a ring, with the repetitions unrolled; labels get a `#n` suffix.
    public func expected(_ kind: RingKind) -> [[String: ExpectedValue]] {
        let list = expectations[kind] ?? []
        guard repeatCount > 1 else { return list }
        return (0..<repeatCount).flatMap { round in
            list.map { record in
                record.mapValues { value in value }.merging(
                    ["span", "parent", "link"].compactMap { key -> (String, ExpectedValue)? in
                        guard case .text(let label)? = record[key] else { return nil }
                        return (key, .text("\(label)#\(round)"))
                    }, uniquingKeysWith: { $1 })
            }
        }
    }

    public static func load(path: String) throws -> Scenario {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let root = try Yams.load(yaml: text) as? [String: Any] else {
            throw ScenarioError("\(path): a scenario is a mapping")
        }
        guard let name = root["name"] as? String else { throw ScenarioError("\(path): missing name") }
        var expectations: [RingKind: [[String: ExpectedValue]]] = [:]
        let expect = root["expect"] as? [String: Any] ?? [:]
        for (ringName, list) in expect {
            guard let kind = RingKind.allCases.first(where: { $0.name == ringName }) else {
                throw ScenarioError("\(path): unknown ring '\(ringName)' (events, spans or measurements)")
            }
            guard let records = list as? [[String: Any]] else { throw ScenarioError("\(path): \(ringName) must be a list of mappings") }
            expectations[kind] = try records.map { record in
                try record.mapValues { value -> ExpectedValue in
                    if let map = value as? [String: Any] { return .map(map.mapValues { "\($0)" }) }
                    if value is [Any] { throw ScenarioError("\(path): lists are not supported in expectations") }
                    return .text(Self.text(value))
                }
            }
        }
        return Scenario(name: name, description: root["description"] as? String ?? "",
                        timeoutSeconds: (root["timeout_seconds"] as? Double) ?? Double(root["timeout_seconds"] as? Int ?? 30),
                        repeatCount: root["repeat"] as? Int ?? 1, expectations: expectations, path: path)
    }

    /// YAML scalars as the text the runner compares (booleans and numbers as YAML wrote them).
    static func text(_ value: Any) -> String {
        switch value {
        case let flag as Bool: flag ? "true" : "false"
        case let number as Int: String(number)
        case let number as Double: String(number)
        default: "\(value)"
        }
    }

    /// Every scenario in a folder, sorted by name.
    public static func loadAll(folder: String) throws -> [Scenario] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
        return try names.map { try load(path: (folder as NSString).appendingPathComponent($0)) }
    }
}

public struct ScenarioError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
