import OTLPMmapLayout
import OTLPMmapWire

/// Describes a whole file without changing it: header, each ring's indices and fill level, every
/// unread record decoded with its references resolved, and the dictionary's bookkeeping. Problems
/// found along the way are shown in place (rule, offset, message) rather than stopping the report.
package enum Inspector {
    /// `compact`: expand each scope, resource and metric once (for people) instead of at every use.
    package static func inspect(_ file: MmapFile, compact: Bool = false) -> JSONValue {
        var report: [(String, JSONValue)] = [
            ("file", .string(file.path)),
            ("size", .int(Int64((try? file.file.currentFileSize()) ?? file.file.bytes.count))),
            ("header", fields(FileHeaderView.fields, at: file.header.pointer)),
        ]
        let resolver = ReferenceResolver(dictionary: file.dictionary, repeatExpansions: !compact)
        report.append(("rings", .array(file.rings.map { inspect($0, resolver: resolver) })))
        report.append(("dictionary", inspect(file.dictionary)))
        return .object(report)
    }

    /// Reads every field of a structure generically from the spec's field table, atomically where
    /// the spec says the field is atomic.
    static func fields(_ infos: [LayoutFieldInfo], at pointer: UnsafeMutableRawPointer) -> JSONValue {
        .object(infos.map { info in
            let address = pointer + info.offset
            switch info.type {
            case "int64": return (info.name, .int(info.atomic ? SharedMemory.loadInt64(address) : SharedMemory.loadPlain(address, as: Int64.self)))
            case "uint64": return (info.name, .uint(info.atomic ? SharedMemory.loadUInt64(address) : SharedMemory.loadPlain(address, as: UInt64.self)))
            case "int32": return (info.name, .int(Int64(info.atomic ? SharedMemory.loadInt32(address) : SharedMemory.loadPlain(address, as: Int32.self))))
            default:
                let bytes = Array(UnsafeRawBufferPointer(start: address, count: info.size))
                return (info.name, bytes.allSatisfy { $0 == 0 } ? .string("zero") : .string(hexString(bytes)))
            }
        })
    }

    static func inspect(_ ring: Ring, resolver: ReferenceResolver) -> JSONValue {
        var object: [(String, JSONValue)] = [
            ("name", .string(ring.kind.name)),
            ("record_type", .string(ring.kind.recordType)),
            ("offset", .int(Int64(ring.fileOffset))),
            ("aligned", .bool(ring.isAligned)),
        ]
        if case .object(let headerFields) = fields(RingHeaderView.fields, at: ring.header.pointer) {
            object += headerFields
        }
        let reader: Int64, writer: Int64
        do {
            (reader, writer) = try ring.indices()
        } catch {
            object.append(("error", .string("\(error)")))
            return .object(object)
        }
        let unread = writer - reader
        object.append(("unread", .int(unread)))
        object.append(("capacity", .int(ring.numBuffers - 1)))
        object.append(("fill_percent", .double(ring.numBuffers > 1 ? (Double(unread) * 1000 / Double(ring.numBuffers - 1)).rounded() / 10 : 0)))
        var records: [JSONValue] = []
        // Counted, not compared with writer_index: a writer_index of Int64.max has no successor.
        for step in 0..<unread {
            records.append(inspectRecord(ring, sequence: reader &+ 1 &+ step, resolver: resolver))
        }
        object.append(("records", .array(records)))
        return .object(object)
    }

    static func inspectRecord(_ ring: Ring, sequence: Int64, resolver: ReferenceResolver) -> JSONValue {
        var object: [(String, JSONValue)] = [
            ("sequence", .int(sequence)),
            ("slot", .int(RingLayout.slotIndex(sequence: sequence, numBuffers: ring.numBuffers))),
            ("offset", .int(Int64(ring.slotFileOffset(sequence)))),
        ]
        switch ring.state(of: sequence) {
        case .empty, .unpublished:
            object.append(("state", .string("unpublished")))
        case .readable(let formula):
            object.append(("state", .string("readable")))
            object.append(("flag_formula", .string(formula.rawValue)))
            do {
                let record = try ring.decodeRecord(sequence)
                object.append((ring.kind.recordType, resolver.render(record)))
            } catch {
                object.append(("error", .string("\(error)")))
            }
        }
        return .object(object)
    }

    static func inspect(_ dictionary: DictionaryRegion) -> JSONValue {
        var object: [(String, JSONValue)] = [("offset", .int(dictionary.offset))]
        if case .object(let headerFields) = fields(DictionaryHeaderView.fields, at: dictionary.header.pointer) {
            object += headerFields
        }
        do {
            let found = try dictionary.countEntries()
            object.append(("entries_found", .int(found)))
            let counted = dictionary.header.numEntries
            if counted != found {
                object.append(("warning", .string("\(FormatError(.dictNumEntries, at: dictionary.header.fileOffset + DictionaryHeaderView.Offset.numEntries, "num_entries is \(counted) but \(found) entries lie before end"))")))
            }
        } catch {
            object.append(("error", .string("\(error)")))
        }
        return .object(object)
    }
}
