import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import OTLPProto

/// Resolves the dictionary references of one mapped file into OTLP values, each entry once.
///
/// Entries never change after they are written, so a cache keyed by offset stays right for the
/// life of the file; a re-initialised file gets a new cache. Every reference is untrusted: a bad
/// one throws a `FormatError` naming the rule and offset, which the caller counts and reports.
final class DictionaryCache {
    let dictionary: DictionaryRegion
    private var strings: [Int64: String] = [:]
    private var resources: [Int64: OTLPResource] = [:]
    private var scopes: [Int64: ScopeEntry] = [:]
    private var metrics: [Int64: MetricRef] = [:]
    private var values: [Int64: AnyValue] = [:]

    /// An instrumentation scope and the resource it belongs to.
    struct ScopeEntry {
        let scope: OTLPScope
        let resourceRef: Int64
    }

    init(dictionary: DictionaryRegion) {
        self.dictionary = dictionary
    }

    func string(_ reference: Int64, field: String) throws -> String {
        if let cached = strings[reference] { return cached }
        guard case .string(let value) = try dictionary.resolve(reference, as: .string, field: field) else {
            throw FormatError(.dictRefKind, at: Int(clamping: reference), "\(field) \(reference) is not a string entry")
        }
        strings[reference] = value
        return value
    }

    /// The resource at `reference`; 0 means none (an empty resource).
    func resource(_ reference: Int64) throws -> OTLPResource {
        guard reference != 0 else { return OTLPResource() }
        if let cached = resources[reference] { return cached }
        let entry = try decode(Resource.self, at: reference, field: "resource_ref")
        var resource = OTLPResource()
        resource.attributes = try keyValues(entry.attributes)
        resource.droppedAttributesCount = entry.droppedAttributesCount
        resources[reference] = resource
        return resource
    }

    /// The scope at `reference`; 0 means none (an empty scope without a resource).
    func scope(_ reference: Int64) throws -> ScopeEntry {
        guard reference != 0 else { return ScopeEntry(scope: OTLPScope(), resourceRef: 0) }
        if let cached = scopes[reference] { return cached }
        let entry = try decode(InstrumentationScope.self, at: reference, field: "scope_ref")
        var scope = OTLPScope()
        scope.name = entry.nameRef == 0 ? "" : try string(entry.nameRef, field: "name_ref")
        scope.version = entry.versionRef == 0 ? "" : try string(entry.versionRef, field: "version_ref")
        scope.attributes = try keyValues(entry.attributes)
        scope.droppedAttributesCount = entry.droppedAttributesCount
        let result = ScopeEntry(scope: scope, resourceRef: entry.resourceRef)
        scopes[reference] = result
        return result
    }

    func metric(_ reference: Int64) throws -> MetricRef {
        if let cached = metrics[reference] { return cached }
        guard reference != 0 else {
            throw FormatError(.dictRefZero, at: 0, "metric_ref is 0: a measurement must name its metric")
        }
        let entry = try decode(MetricRef.self, at: reference, field: "metric_ref")
        metrics[reference] = entry
        return entry
    }

    func keyValues(_ refs: [KeyValueRef]) throws -> [OTLPKeyValue] {
        try refs.map { ref in
            var keyValue = OTLPKeyValue()
            keyValue.key = try string(ref.keyRef, field: "key_ref")
            if let value = ref.value { keyValue.value = try anyValue(value) }
            return keyValue
        }
    }

    /// An AnyValue, with `value_ref` chains followed to at most `WIRE-DEPTH`'s 64 levels.
    func anyValue(_ value: AnyValue, depth: Int = 0) throws -> OTLPAnyValue {
        guard depth < 64 else {
            throw FormatError(.wireDepth, at: 0, "value_ref chain deeper than 64 levels")
        }
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
            list.values = try array.values.map { try anyValue($0, depth: depth + 1) }
            result.arrayValue = list
        case .kvlistValue(let map):
            var list = OTLPKeyValueList()
            list.values = try map.values.map { ref in
                var keyValue = OTLPKeyValue()
                keyValue.key = try string(ref.keyRef, field: "key_ref")
                if let inner = ref.value { keyValue.value = try anyValue(inner, depth: depth + 1) }
                return keyValue
            }
            result.kvlistValue = list
        case .valueRef(let reference):
            let target: AnyValue
            if let cached = values[reference] {
                target = cached
            } else {
                target = try decode(AnyValue.self, at: reference, field: "value_ref")
                values[reference] = target
            }
            return try anyValue(target, depth: depth + 1)
        }
        return result
    }

    /// Decodes the entry at `reference` as `Message` (DICT-REF-KIND when it is not one).
    private func decode<Message: WireMessage>(_ type: Message.Type, at reference: Int64, field: String) throws -> Message {
        let (bytes, offset) = try dictionary.payload(at: reference, field: field)
        do {
            return try bytes.withDecodableBytes { payload throws(FormatError) in
                var reader = ProtoReader(payload, baseOffset: offset)
                return try Message(from: &reader)
            }
        } catch {
            throw FormatError([.wireFormat, .slotDecode].contains(error.rule) ? .dictRefKind : error.rule, at: error.offset,
                              "\(field) \(reference) is not a valid \(Message.self): \(error.message)")
        }
    }
}
