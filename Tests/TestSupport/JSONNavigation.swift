import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A thin, failing-loudly way to walk parsed JSON in tests: `json["rings"][0]["name"].string`.
public struct JSON: CustomStringConvertible {
    public let value: Any?

    public init(_ value: Any?) { self.value = value }

    public init(parsing text: String) throws {
        value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    public subscript(key: String) -> JSON { JSON((value as? [String: Any])?[key]) }
    public subscript(index: Int) -> JSON {
        guard let array = value as? [Any], index >= 0, index < array.count else { return JSON(nil) }
        return JSON(array[index])
    }

    public var string: String? { value as? String }
    public var int: Int64? { (value as? NSNumber).map { $0.int64Value } }
    public var uint: UInt64? { (value as? NSNumber).map { $0.uint64Value } }
    public var double: Double? { (value as? NSNumber).map { $0.doubleValue } }
    public var bool: Bool? { value as? Bool }
    public var array: [JSON] { (value as? [Any])?.map(JSON.init) ?? [] }
    public var count: Int { (value as? [Any])?.count ?? 0 }
    public var isNull: Bool { value == nil || value is NSNull }
    public var description: String { value.map { "\($0)" } ?? "nil" }

    /// The `value` of a resolved reference object.
    public var resolved: JSON { self["value"] }
}

/// Counts test cases and names the failed ones in a JUnit document.
public final class JUnitCollector: NSObject, XMLParserDelegate {
    public var testcases = 0
    public var failedCases: [String] = []
    private var current = ""

    /// Parses `text`; nil when it is not well-formed XML.
    public static func parse(_ text: String) -> JUnitCollector? {
        let collector = JUnitCollector()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = collector
        return parser.parse() ? collector : nil
    }

    public func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if elementName == "testcase" {
            testcases += 1
            current = attributes["name"] ?? ""
        } else if elementName == "failure" {
            failedCases.append(current)
        }
    }
}
