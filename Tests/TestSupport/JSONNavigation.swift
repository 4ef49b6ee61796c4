import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A thin, failing-loudly way to walk parsed JSON in tests: `json["rings"][0]["name"].string`.
package struct JSON: CustomStringConvertible {
    package let value: Any?

    package init(_ value: Any?) { self.value = value }

    package init(parsing text: String) throws {
        value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    package subscript(key: String) -> JSON { JSON((value as? [String: Any])?[key]) }
    package subscript(index: Int) -> JSON {
        guard let array = value as? [Any], index >= 0, index < array.count else { return JSON(nil) }
        return JSON(array[index])
    }

    package var string: String? { value as? String }
    package var int: Int64? { (value as? NSNumber).map { $0.int64Value } }
    package var uint: UInt64? { (value as? NSNumber).map { $0.uint64Value } }
    package var double: Double? { (value as? NSNumber).map { $0.doubleValue } }
    package var bool: Bool? { value as? Bool }
    package var array: [JSON] { (value as? [Any])?.map(JSON.init) ?? [] }
    package var count: Int { (value as? [Any])?.count ?? 0 }
    package var isNull: Bool { value == nil || value is NSNull }
    package var description: String { value.map { "\($0)" } ?? "nil" }

    /// The `value` of a resolved reference object.
    package var resolved: JSON { self["value"] }
}

/// Counts test cases and names the failed ones in a JUnit document.
package final class JUnitCollector: NSObject, XMLParserDelegate {
    package var testcases = 0
    package var failedCases: [String] = []
    private var current = ""

    /// Parses `text`; nil when it is not well-formed XML.
    package static func parse(_ text: String) -> JUnitCollector? {
        let collector = JUnitCollector()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = collector
        return parser.parse() ? collector : nil
    }

    package func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if elementName == "testcase" {
            testcases += 1
            current = attributes["name"] ?? ""
        } else if elementName == "failure" {
            failedCases.append(current)
        }
    }
}
