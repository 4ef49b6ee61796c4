import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import OTLPProto

/// The collector's view of one mapped file's dictionary: entries become OTLP values through Core's
/// `DictionaryResolver` (which checks, caches and bounds every reference) and the records' inline
/// attributes and values are converted here, their references resolved through the same resolver.
/// A re-initialised file gets a new cache. A bad reference throws a `FormatError` naming the rule
/// and offset, which the caller counts and reports.
final class DictionaryCache {
    let dictionary: DictionaryRegion
    private let resolver: DictionaryResolver<OTLPEntry>
    /// What the resolver built, by reference, for the lookups every record makes (attribute keys,
    /// scopes): a concrete dictionary here, because the resolver's generic cache, called from this
    /// module, runs unspecialised — a metadata lookup per call, a sixth of a drain's CPU in the profile.
    private var strings: [Int64: String] = [:]
    private var scopes: [Int64: ScopeEntry] = [:]

    /// An instrumentation scope and the resource it belongs to.
    struct ScopeEntry {
        let scope: OTLPScope
        let resourceRef: Int64
    }

    /// What an entry becomes, by kind.
    enum OTLPEntry {
        case string(String)
        case resource(OTLPResource)
        case scope(ScopeEntry)
        case metric(MetricRef)
        case value(OTLPAnyValue)
    }

    init(dictionary: DictionaryRegion) {
        self.dictionary = dictionary
        resolver = DictionaryResolver(source: dictionary, build: Self.build)
    }

    /// The SHOULD-level rules entries broke since the last call (a metric without an aggregation…).
    func takeFindings() -> [FormatError] { resolver.takeFindings() }

    private static func build(_ entry: DecodedEntry, _ reference: Int64, _ resolver: DictionaryResolver<OTLPEntry>) throws -> OTLPEntry {
        switch entry {
        case .string(let text):
            return .string(text)
        case .resource(let entry):
            var resource = OTLPResource()
            resource.attributes = try keyValues(entry.attributes, resolver, nesting: 1)
            resource.droppedAttributesCount = entry.droppedAttributesCount
            return .resource(resource)
        case .instrumentationScope(let entry):
            var scope = OTLPScope()
            scope.name = entry.nameRef == 0 ? "" : try string(entry.nameRef, field: "name_ref", resolver)
            scope.version = entry.versionRef == 0 ? "" : try string(entry.versionRef, field: "version_ref", resolver)
            scope.attributes = try keyValues(entry.attributes, resolver, nesting: 1)
            scope.droppedAttributesCount = entry.droppedAttributesCount
            return .scope(ScopeEntry(scope: scope, resourceRef: entry.resourceRef))
        case .metricRef(let entry):
            return .metric(entry)
        case .anyValue(let entry):
            return .value(try anyValue(entry, resolver, nesting: 0))
        }
    }

    func string(_ reference: Int64, field: String) throws -> String {
        if let known = strings[reference] { return known }
        let text = try Self.string(reference, field: field, resolver)
        strings[reference] = text
        return text
    }

    /// The resource at `reference`; 0 means none (an empty resource).
    func resource(_ reference: Int64) throws -> OTLPResource {
        guard reference != 0 else { return OTLPResource() }
        guard case .resource(let resource) = try resolver.resolve(.resource, at: reference, field: "resource_ref") else { throw Self.mismatch(reference) }
        return resource
    }

    /// The scope at `reference`; 0 means none (an empty scope without a resource).
    func scope(_ reference: Int64) throws -> ScopeEntry {
        guard reference != 0 else { return ScopeEntry(scope: OTLPScope(), resourceRef: 0) }
        if let known = scopes[reference] { return known }
        guard case .scope(let scope) = try resolver.resolve(.instrumentationScope, at: reference, field: "scope_ref") else { throw Self.mismatch(reference) }
        scopes[reference] = scope
        return scope
    }

    /// The metric at `reference`. The validator reports metric_ref 0 (DICT-REF-ZERO); a measurement
    /// without its metric has nothing to be aggregated into, so here it is an error.
    func metric(_ reference: Int64) throws -> MetricRef {
        guard reference != 0 else {
            throw FormatError(.dictRefZero, at: 0, "metric_ref is 0: a measurement must name its metric")
        }
        guard case .metric(let metric) = try resolver.resolve(.metricRef, at: reference, field: "metric_ref") else { throw Self.mismatch(reference) }
        return metric
    }

    /// Inline attributes; their keys through `string` (the memo), nested values through the resolver.
    func keyValues(_ refs: [KeyValueRef]) throws -> [OTLPKeyValue] {
        try refs.map { ref in
            var keyValue = OTLPKeyValue()
            keyValue.key = try string(ref.keyRef, field: "key_ref")
            if let value = ref.value { keyValue.value = try Self.anyValue(value, resolver, nesting: 2) }
            return keyValue
        }
    }

    /// `nesting`: how many messages deep the value sits in its record (a log body 1, an attribute's value 2).
    func anyValue(_ value: AnyValue, nesting: Int = 1) throws -> OTLPAnyValue {
        try Self.anyValue(value, resolver, nesting: nesting)
    }

    // MARK: conversion of inline values

    private static func string(_ reference: Int64, field: String, _ resolver: DictionaryResolver<OTLPEntry>) throws -> String {
        guard case .string(let text) = try resolver.resolve(.string, at: reference, field: field) else { throw mismatch(reference) }
        return text
    }

    private static func keyValues(_ refs: [KeyValueRef], _ resolver: DictionaryResolver<OTLPEntry>, nesting: Int) throws -> [OTLPKeyValue] {
        try refs.map { ref in
            var keyValue = OTLPKeyValue()
            keyValue.key = try string(ref.keyRef, field: "key_ref", resolver)
            if let value = ref.value { keyValue.value = try anyValue(value, resolver, nesting: nesting + 1) }
            return keyValue
        }
    }

    /// `nesting`: how many messages deep the value sits in its record or entry; the resolver bounds
    /// inline nesting and `value_ref` chains together (WIRE-DEPTH).
    private static func anyValue(_ value: AnyValue, _ resolver: DictionaryResolver<OTLPEntry>, nesting: Int) throws -> OTLPAnyValue {
        var result = OTLPAnyValue()
        switch value.value {
        case nil: break
        case .stringValue(let text): result.stringValue = text
        case .boolValue(let flag): result.boolValue = flag
        case .intValue(let number): result.intValue = number
        case .doubleValue(let number): result.doubleValue = number
        case .bytesValue(let bytes): result.bytesValue = Data(bytes)
        case .arrayValue(let array):
            var list = OTLPArrayValue()
            list.values = try array.values.map { try anyValue($0, resolver, nesting: nesting + 2) }
            result.arrayValue = list
        case .kvlistValue(let map):
            var list = OTLPKeyValueList()
            list.values = try keyValues(map.values, resolver, nesting: nesting + 1)
            result.kvlistValue = list
        case .valueRef(let reference):
            guard case .value(let target) = try resolver.resolve(.anyValue, at: reference, field: "value_ref", nesting: nesting) else { throw mismatch(reference) }
            return target
        }
        return result
    }

    /// Each kind builds its own case, so a mismatch means a bug here, reported rather than trapped.
    private static func mismatch(_ reference: Int64) -> FormatError {
        FormatError(.dictRefKind, at: Int(clamping: reference), "entry \(reference) was built as another kind")
    }
}
