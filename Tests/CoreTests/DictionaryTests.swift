import Foundation
import OTLPMmapCore
import OTLPMmapLayout
import OTLPMmapWire
import Testing

/// Appending, resolving and growing the dictionary.
@Suite struct DictionaryTests {
    @Test func entriesAreWrittenBackToBackAndResolve() throws {
        let file = try makeFile()
        let dictionary = file.dictionary
        let key = try dictionary.appendString("service.name")
        #expect(key == dictionary.firstEntryOffset)
        let empty = try dictionary.appendString("")
        #expect(empty == key + 13) // 1-byte length + 12 bytes
        let resource = try dictionary.append(Resource(attributes: [KeyValueRef(keyRef: key, value: AnyValue(value: .stringValue("svc")))]))
        #expect(try dictionary.resolve(key, as: .string) == .string("service.name"))
        #expect(try dictionary.resolve(empty, as: .string) == .string(""))
        let decoded = try dictionary.resolve(resource, as: .resource)
        #expect(decoded[field: "attributes"] == .list([.message(type: "KeyValueRef", fields: [
            ("key_ref", .reference(kind: "string", offset: key)),
            ("value", .message(type: "AnyValue", fields: [("string_value", .string("svc"))])),
        ])]))
        #expect(dictionary.header.numEntries == 3)
        #expect(try dictionary.entries().map(\.offset) == [key, empty, resource])
        #expect(dictionary.header.end == resource + Int64(lengthDelimitedSize(Resource(attributes: [KeyValueRef(keyRef: key, value: AnyValue(value: .stringValue("svc")))]).encodedSize)))
    }

    @Test func referencesOutsideTheEntriesAreRejectedWithTheirOffset() throws {
        let file = try makeFile()
        let dictionary = file.dictionary
        let key = try dictionary.appendString("k")
        for bad in [Int64(0), 10, dictionary.firstEntryOffset - 1, dictionary.header.end, Int64.max, -5] {
            let error = expectFormatError(.dictRefRange) { _ = try dictionary.resolve(bad, as: .string) }
            #expect(error?.message.contains("outside the dictionary's entries") == true, "\(bad)")
        }
        #expect(try dictionary.resolve(key, as: .string) == .string("k"))
    }

    /// A checker gets each bad reference of a rendering as the typed error its place shows, not as
    /// text to read a rule ID back out of.
    @Test func renderingReturnsItsBadReferencesTyped() throws {
        let file = try makeFile()
        let key = try file.dictionary.appendString("k")
        let value = RecordValue.message(type: "Test", fields: [
            (name: "good", value: .reference(kind: DictionaryEntryKind.string.rawValue, offset: key)),
            (name: "outside", value: .reference(kind: DictionaryEntryKind.string.rawValue, offset: 10)),
            (name: "unknown", value: .reference(kind: "no-such-kind", offset: key)),
        ])
        let (json, errors) = ReferenceResolver(dictionary: file.dictionary).renderChecking(value)
        #expect(errors.map(\.rule) == [.dictRefRange, .dictRefKind])
        #expect(errors.first?.offset == 10)
        guard case .object(let fields) = json else { Issue.record("\(json)"); return }
        #expect(fields.map(\.0) == ["good", "outside", "unknown"])
    }

    @Test func aReferenceIntoTheMiddleOfAnEntryCannotReadPastEnd() throws {
        let file = try makeFile()
        let dictionary = file.dictionary
        // An entry whose payload byte looks like a long length prefix.
        let entry = try dictionary.appendString("\u{7F}")
        let error = expectFormatError(.dictRefRange) { _ = try dictionary.resolve(entry + 1, as: .string) }
        #expect(error?.message.contains("runs past the dictionary's end") == true)
    }

    @Test func anEntryOfTheWrongKindIsADictRefKindError() throws {
        let file = try makeFile()
        let dictionary = file.dictionary
        let text = try dictionary.appendString("\u{0A}\u{05}abc") // field 1, length 5, only 3 bytes
        expectFormatError(.dictRefKind) { _ = try dictionary.resolve(text, as: .resource) }
        let notUTF8 = try dictionary.append(payloadBytes: 2) { bytes in bytes[0] = 0xC3; bytes[1] = 0x28 }
        let error = expectFormatError(.recUtf8) { _ = try dictionary.resolve(notUTF8, as: .string) }
        #expect(error?.offset == Int(notUTF8) + 1)
    }

    @Test func theFileGrowsWhenEntriesOutgrowTheDictionary() throws {
        let file = try makeFile(dictionaryBytes: 128)
        let sizeBefore = try file.file.currentFileSize()
        var references: [Int64] = []
        for index in 0..<500 { references.append(try file.dictionary.appendString("attribute.key.\(index)")) }
        #expect(try file.file.currentFileSize() > sizeBefore)
        for (index, reference) in references.enumerated() {
            #expect(try file.dictionary.resolve(reference, as: .string) == .string("attribute.key.\(index)"))
        }
        #expect(try file.dictionary.entries().count == 500)
        #expect(file.dictionary.header.numEntries == 500)
    }

    @Test func aReaderResolvesEntriesWrittenAfterItMappedTheFile() throws {
        let writer = try makeFile(dictionaryBytes: 128)
        let reader = try MmapFile.open(path: writer.path)
        let mappedBefore = reader.file.bytes.count
        var references: [Int64] = []
        for index in 0..<200 { references.append(try writer.dictionary.appendString("grown-\(index)")) }
        #expect(try writer.file.currentFileSize() > mappedBefore, "the test must grow the file past the reader's mapping")
        let last = try #require(references.last)
        #expect(Int(last) > mappedBefore)
        #expect(try reader.dictionary.resolve(last, as: .string) == .string("grown-199"))
        #expect(reader.file.bytes.count > mappedBefore)
    }

    /// An entry whose length prefix starts on the last bytes of the size a reader mapped and
    /// continues into what the writer grew since (issue 19): the reader must follow the growth for
    /// the prefix too, not only for the entry's first byte. Prefixes of 1, 2, 5 and 10 bytes (the
    /// last two non-minimal, as protobuf allows), starting on each of the last bytes of the mapping.
    @Test(arguments: [1, 2, 5, 10])
    func aLengthPrefixAcrossTheReadersMappedSizeIsRead(prefixLength: Int) throws {
        for bytesBeforeTheEnd in 1...prefixLength {
            let writer = try makeFile(dictionaryBytes: 128, label: "prefix-\(prefixLength)-\(bytesBeforeTheEnd)")
            let reader = try MmapFile.open(path: writer.path)
            let mapped = reader.file.bytes.count
            // Fill the dictionary with one string so that the next entry starts `bytesBeforeTheEnd`
            // bytes before the reader's mapped size.
            let target = Int64(mapped - bytesBeforeTheEnd)
            let gap = Int(target - writer.dictionary.header.end)
            try #require(gap >= 1 && gap <= 128)
            _ = try writer.dictionary.appendString(String(repeating: "f", count: gap - 1))
            try #require(writer.dictionary.header.end == target)
            let payload = Array(String(repeating: "p", count: prefixLength == 2 ? 200 : 7).utf8)
            let reference = try appendRaw(writer, prefix(payload.count, bytes: prefixLength) + payload)
            #expect(reference == target)
            #expect(try writer.file.currentFileSize() > mapped, "the entry must end past the reader's mapping")
            #expect(try reader.dictionary.resolve(reference, as: .string) == .string(String(decoding: payload, as: UTF8.self)),
                    "prefix of \(prefixLength) bytes starting \(bytesBeforeTheEnd) before the mapped size")
        }
    }

    @Test func concurrentAppendsFromManyThreadsAreAllKept() throws {
        let file = try makeFile(dictionaryBytes: 256)
        let threads = 8
        let perThread = 300
        let results = ThreadResults(count: threads)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var mine: [Int64] = []
            for index in 0..<perThread {
                mine.append((try? file.dictionary.appendString("t\(thread)-\(index)")) ?? -1)
            }
            results.set(thread, mine)
        }
        for thread in 0..<threads {
            for (index, reference) in results.get(thread).enumerated() {
                #expect(try file.dictionary.resolve(reference, as: .string) == .string("t\(thread)-\(index)"))
            }
        }
        #expect(file.dictionary.header.numEntries == Int64(threads * perThread))
        #expect(try file.dictionary.entries().count == threads * perThread)
    }
}

final class ThreadResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [[Int64]]
    init(count: Int) { values = Array(repeating: [], count: count) }
    func set(_ index: Int, _ value: [Int64]) { lock.lock(); values[index] = value; lock.unlock() }
    func get(_ index: Int) -> [Int64] { lock.lock(); defer { lock.unlock() }; return values[index] }
}

/// `length` as a varint of exactly `bytes` bytes (padded with continuation bytes when longer than
/// its minimal form).
func prefix(_ length: Int, bytes: Int) -> [UInt8] {
    var out: [UInt8] = []
    var value = UInt64(length)
    for index in 0..<bytes {
        let last = index == bytes - 1
        out.append(UInt8(value & 0x7F) | (last ? 0 : 0x80))
        value >>= 7
    }
    precondition(value == 0, "\(length) does not fit \(bytes) varint bytes")
    return out
}

/// Appends `entry` (prefix and payload, as given) to the dictionary the way a writer does: reserve
/// with a fetch-add on `end`, grow the file when it does not fit, copy, count. Returns its reference.
func appendRaw(_ file: MmapFile, _ entry: [UInt8]) throws -> Int64 {
    let start = file.dictionary.header.fetchAddEnd(Int64(entry.count))
    let end = Int(start) + entry.count
    let mapping = end > file.file.bytes.count ? try file.file.grow(toAtLeast: end + 64) : file.file.bytes
    UnsafeMutableRawBufferPointer(rebasing: mapping[Int(start)..<end]).copyBytes(from: entry)
    _ = file.dictionary.header.fetchAddNumEntries(1)
    return start
}
